# The two commands of the README, and the steps they are made of.
#   make demo    install what is missing, build, load demo data, serve http://127.0.0.1:8080
#   make check   install what is missing, build, run every check and test

.PHONY: deps build build-asan demo check bench format clean

# make check and make bench install what their tests and benchmarks use as well; a
# target-specific variable reaches the prerequisites (deps through build).
deps:
	@scripts/install-deps $(DEPS)

build: deps
	cmake --preset default >/dev/null
	cmake --build --preset default

build-asan: deps
	cmake --preset asan >/dev/null
	cmake --build --preset asan

demo: build
	scripts/demo

check: DEPS = --tests
check: build build-asan
	scripts/check

bench: DEPS = --bench
bench: build
	bench/run

format:
	git ls-files --cached --others --exclude-standard 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' | xargs clang-format -i

clean:
	rm -rf build build-asan
