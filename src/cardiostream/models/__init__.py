"""The heartbeat-classification model zoo: one registry, one interface.

``create_model(name, **cfg)`` builds any registered model; ``list_models()`` names them;
``model_info(name)`` tells where each comes from. Torch models are :class:`ECGModel` s
(``forward_features`` → ``forward_head``, ``num_classes``, ``num_features``,
``reset_classifier``, ``input_spec``, ``model_config``) consuming ``(B, channels, length)``
tensors; paper 003's classical baselines are :class:`ClassicalModel` s with ``fit`` /
``predict_proba`` on the same arrays.

=================  =====  ===========================================================
name               paper  model
=================  =====  ===========================================================
``lstm256``        001    LSTM-Sequential, LSTM 256 → Dense 128 tanh (Table 3)
``lstm512``        001    LSTM-Sequential, LSTM 512 → Dense 128 tanh
``bilstm256``      001    Bi-LSTM 256 → Dense 256 tanh (Table 4)
``lstm_fcn``       001    LSTM-FCN (Table 5)
``cnn_lstm``       003    hybrid CNN-LSTM
``gru``            003    GRU baseline
``random_forest``  003    scikit-learn random forest
``decision_tree``  003    scikit-learn decision tree
``svm``            003    scikit-learn SVC
``cnn1d``          002    CNN1D 3Class (188,035 parameters)
``cnn_lstm_attn``  002    CNN-LSTM-Attn (349,860)
``bilstm2x128``    002    BiLSTM ECG (530,947)
``resnet1d_attn``  002    ResNet1D-Attn (417,892 in the paper; ours 417,860)
``cnn1d_rr``       ours   CNN1D on the window + 9 RR features (de Chazal et al. 2004)
``beatnet``        ours   template-relative CNN, S from rhythm context (``beat_ctx``)
``resnet1d_se_attn``  002  ResNet1D-SE-Attn, 12-lead PTB-XL (1,661,126; ours 1,661,110)
``conv_transformer``  002  ConvTransformer, 12-lead PTB-XL (1,711,878; ours 1,711,430)
``resnet1d_wang``  ptbxl-ref  PTB-XL benchmark's resnet1d_wang (473,349)
``inception1d``    ptbxl-ref  PTB-XL benchmark's inception1d (507,653)
``inception_transformer``  000  12-lead InceptionTime-Transformer teacher (1,463,813)
``ecg_student``    000    single-lead student for cross-lead distillation (11,413)
``tgllnet``        004    TGLLNet, learnable lead graphs + temporal convolution (1,011,493)
=================  =====  ===========================================================
"""

from __future__ import annotations

from . import attention as _attention  # noqa: F401  (registers the models of each family)
from . import beatnet as _beatnet  # noqa: F401
from . import cnn as _cnn  # noqa: F401
from . import fusion as _fusion  # noqa: F401
from . import hybrid as _hybrid  # noqa: F401
from . import inception_transformer as _inception_transformer  # noqa: F401
from . import lstm as _lstm  # noqa: F401
from . import lstm_fcn as _lstm_fcn  # noqa: F401
from . import ptbxl_paper002 as _ptbxl_paper002  # noqa: F401
from . import ptbxl_reference as _ptbxl_reference  # noqa: F401
from . import resnet as _resnet  # noqa: F401
from . import student as _student  # noqa: F401
from . import tgllnet as _tgllnet  # noqa: F401
from ._base import INPUT_KINDS, ECGModel, InputSpec, count_parameters, default_input_spec
from ._factory import INPUT_KEYS, create_model
from ._registry import FRAMEWORKS, ModelInfo, list_models, model_info, register_model
from .classical import ClassicalModel

__all__ = [
    "FRAMEWORKS",
    "INPUT_KEYS",
    "INPUT_KINDS",
    "ClassicalModel",
    "ECGModel",
    "InputSpec",
    "ModelInfo",
    "count_parameters",
    "create_model",
    "default_input_spec",
    "list_models",
    "model_info",
    "register_model",
]

# The ``<model>_pruned`` variants of structured channel pruning (cardiostream.edge.structured);
# imported last because that module builds on the models registered above.
from ..edge import structured as _structured  # noqa: F401
