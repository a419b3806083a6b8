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
=================  =====  ===========================================================
"""

from __future__ import annotations

from . import attention as _attention  # noqa: F401  (registers the models of each family)
from . import beatnet as _beatnet  # noqa: F401
from . import cnn as _cnn  # noqa: F401
from . import fusion as _fusion  # noqa: F401
from . import hybrid as _hybrid  # noqa: F401
from . import lstm as _lstm  # noqa: F401
from . import lstm_fcn as _lstm_fcn  # noqa: F401
from . import resnet as _resnet  # noqa: F401
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
