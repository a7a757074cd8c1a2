# The two commands a newcomer runs (README.md): `make demo` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo bench fuzz clean

all: build

deps:
	scripts/deps

build: deps
	cmake -S . -B $(BUILD) -G Ninja
	cmake --build $(BUILD) -j $(JOBS)

# Everything but long soak runs: unit, fuzz-corpus replay, integration and the bench smoke run.
test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -LE soak

# The seed's story: the Rust server that halts after every answer, reborn on each request.
demo: build
	BUILD=$(BUILD) scripts/demo

bench: build
	$(BUILD)/bench/boot/bench_boot --runs 20
	$(BUILD)/bench/image/bench_image --runs 10
	$(BUILD)/bench/sched/bench_sched --runs 3
	$(BUILD)/bench/net/bench_net --seconds 10
	$(BUILD)/bench/rebirth/bench_rebirth --crashes 200 --qemu-crashes 50

fuzz: deps
	scripts/fuzz 30

clean:
	rm -rf $(BUILD) build-fuzz
