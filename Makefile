# The two commands of the README, and the steps they are made of.
#   make demo    install what is missing, build, load demo data, serve http://127.0.0.1:8080
#   make check   install what is missing, build, run every check and test
#   make fuzz    build the libFuzzer targets (clang) and run each for a minute (scripts/fuzz)

.PHONY: deps build build-app build-asan build-fuzz demo check fuzz bench format clean

# make check and make bench install what their tests and benchmarks use as well; a
# target-specific variable reaches the prerequisites (deps through build).
deps:
	@scripts/install-deps $(DEPS)

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default

# The program alone, without the test programs (about half of the build): what the demo needs.
build-app: deps
	cmake --preset default >/dev/null
	cmake --build --preset default --target mvsp

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan

# The fuzz targets and the libraries they need, with clang 16 (fuzz/CMakeLists.txt).
build-fuzz: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz

demo: build-app
	scripts/demo

check: DEPS = --tests
check: build build-asan build-fuzz
	scripts/check

fuzz: DEPS = --tests
fuzz: build-fuzz
	scripts/fuzz

bench: DEPS = --bench
bench: build
	cmake --build --preset default --target benches
	bench/run

format:
	git ls-files --cached --others --exclude-standard 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' 'fuzz/*.cpp' 'fuzz/*.hpp' | xargs -r clang-format -i

clean:
	rm -rf build build-asan build-fuzz
