# What `sam build` runs for the three functions of template.yaml (BuildMethod: makefile):
# the receiver binary built with the size-tuned `size` profile (Cargo.toml), as the
# `bootstrap` of a provided.al2023 function. samconfig.toml has SAM build in place
# (build_in_source), so cargo reuses target/ instead of SAM copying the workspace.
#
# LAMBDA_ARCH: cargo-lambda's architecture flag, --arm64 as the template deploys
# (override with --x86-64 together with the template's Architectures).

LAMBDA_ARCH ?= --arm64
BOOTSTRAP := target/lambda/zoomwatch-ingest/bootstrap

.PHONY: bootstrap build-IngestFunction build-PollFunction build-WatchFunction

bootstrap:
	cargo lambda build --profile size $(LAMBDA_ARCH) --bin zoomwatch-ingest

build-IngestFunction build-PollFunction build-WatchFunction: bootstrap
	mkdir -p "$(ARTIFACTS_DIR)"
	cp $(BOOTSTRAP) "$(ARTIFACTS_DIR)/bootstrap"
