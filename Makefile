# Zoo — build, demo, tests. `make run` and `make test` install the Debian packages they need.
SHELL := /bin/bash
SWIFT ?= swift
# The C libraries Zoo links (through pkg-config), from Debian.
APT_PACKAGES := pkg-config libhdf5-dev libopenblas-dev libpng-dev libturbojpeg0-dev
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ZOO := .build/release/zoo

.PHONY: all deps build run test docs bench clean

all: build

## deps: install the Debian packages that are missing (apt-get update only when something is).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

## build: release build of the library and the `zoo` command.
build: deps
	$(SWIFT) build -c release --product zoo

## run: the demo on shipped data — the zoo, summaries, every paper check, the shipped LeNet-5
## (trained by Zoo on real MNIST digits) reading ten held-out digits, and transfer learning on
## real photos (scikit-image's textures in Tests/Fixtures/textures).
DEMO := $(shell mktemp -d 2>/dev/null || echo /tmp/zoo-demo)
run: build
	$(ZOO) list
	@echo
	$(ZOO) summary vgg16
	@echo
	$(ZOO) summary googlenet --depth 0
	@echo
	$(ZOO) verify --quiet
	@echo
	$(ZOO) predict lenet5 --weights Weights/lenet5.h5 Tests/Fixtures/mnist/test-digits.npy --top 1
	$(ZOO) extract lenet5 --weights Weights/lenet5.h5 --layer C5 --pool avg Tests/Fixtures/mnist/test-digits.npy -o $(DEMO)/digits.h5 --quiet
	@echo
	$(ZOO) extract resnet18 Tests/Fixtures/textures --layer pool5 -o $(DEMO)/codes.h5 --quiet
	$(ZOO) fit $(DEMO)/codes.h5 -o $(DEMO)/head.h5
	$(ZOO) predict resnet18 --head $(DEMO)/head.h5 Tests/Fixtures/textures/grass/03.png Tests/Fixtures/textures/brick/05.png --top 3
	@rm -rf $(DEMO)

## test: the whole test suite (Swift Testing), in debug.
test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build
	bash tools/cli-tests.sh .build/debug/zoo

## docs: regenerate docs/zoo/ (one page per architecture family) from the definitions.
docs: build
	$(ZOO) docs docs/zoo

clean:
	rm -rf .build
