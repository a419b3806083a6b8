# Clinician dashboard (web/): npm deps from the lockfile, esbuild bundle into the package's
# static folder (build output, not in git), and the browser-test prerequisites.
WEB_STATIC := src/cardiostream/service/static/index.html
WEB_SRC    := $(wildcard web/src/*) web/build.mjs web/package-lock.json

web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

$(WEB_STATIC): web/node_modules/.package-lock.json $(WEB_SRC)
	cd web && node build.mjs

.PHONY: web browser-deps
web: $(WEB_STATIC)

# Playwright (Python package only, never its browser downloads) and Debian's Chromium.
browser-deps: $(STAMP)
	@test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
	@$(PY) -c "import playwright" 2>/dev/null || $(PIP) install --quiet playwright
