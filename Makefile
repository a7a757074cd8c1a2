# The two commands a newcomer runs (README.md): `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo bench clean

all: build

deps:
	scripts/deps

build: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE 'soak|bench'

demo: build
	$(BUILD)/phx/phx run $(BUILD)/examples/hello-world/hello-world -- from the Phoenix demo

bench: build
	$(BUILD)/bench/boot/bench_boot --runs 20

clean:
	rm -rf $(BUILD)
