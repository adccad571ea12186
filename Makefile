# Stablegate entry points. Each target is a thin call into scripts/, which you can run directly.
.PHONY: setup build wasm test bench demo dist test-woocommerce test-php81

## setup: install what the build and tests need and is missing (idempotent)
setup:
	@scripts/setup.sh

## build: the native workspace and the wasm packages
build: setup
	cargo build --workspace
	@scripts/build-wasm.sh

## wasm: crates/wasm/pkg/web and crates/wasm/pkg/node
wasm: setup
	@scripts/build-wasm.sh

## demo: a local chain, the server on SQLite and a demo shop; pay and watch it settle (Ctrl-C stops)
demo:
	@scripts/demo.sh

## test: everything (installs what it needs first)
test: setup
	@scripts/test.sh

## dist: dist/stablegate.zip, the WooCommerce plugin with the built widget
dist: setup
	@scripts/build-wasm.sh
	@scripts/dist.sh

## test-woocommerce: the plugin zip in a real WordPress + WooCommerce you have locally (not in CI)
##   make test-woocommerce WC_DIR=/path/to/woocommerce WP_DIR=/path/to/wordpress-core
test-woocommerce: dist
	@WC_DIR="$(WC_DIR)" WP_DIR="$(WP_DIR)" scripts/test-woocommerce.sh

## test-php81: the plugin's syntax and unit suite on PHP 8.1 (as WebAssembly; not in CI: ~470 MB)
test-php81:
	@scripts/test-php81.sh

## bench: benchmarks, printed as ratios against peers measured in the same run
bench: setup
	@scripts/bench.sh
