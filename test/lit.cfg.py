# lit configuration for test/lit (FileCheck tests) and test/e2e (numeric tests).
import os
import lit.formats

config.name = "bitnetc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".bir", ".test"]
config.test_source_root = os.path.join(config.bitnetc_src_root, "test")
config.test_exec_root = os.path.join(config.bitnetc_obj_root, "test")
config.excludes = ["unit", "models", "Inputs", "lit.cfg.py", "CMakeLists.txt"]

llvm_bin = os.path.dirname(config.filecheck)
config.environment["PATH"] = os.pathsep.join(
    [config.bitnetc_tools_dir, llvm_bin, config.environment.get("PATH", os.environ["PATH"])])
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]

models = os.path.join(config.bitnetc_src_root, "test", "models")
config.substitutions.append(("%python", config.bitnetc_python))
config.substitutions.append(("%gen", config.bitnetc_python + " " + os.path.join(models, "gen_checkpoint.py")))
config.substitutions.append(("%models", models))
config.substitutions.append(("%bundled", os.path.join(models, "bitnet-tiny-trained")))
config.substitutions.append(("%srcroot", config.bitnetc_src_root))

if os.path.exists("/usr/bin/node"):
    config.available_features.add("node")
# Memory checks of programs linking compiled models (test/lit/runtime/valgrind.test).
if os.path.exists("/usr/bin/valgrind"):
    config.available_features.add("valgrind")

# C/C++ compilers for programs that link compiled models (examples, runtime tests).
config.substitutions.append(("%cc", "cc"))
config.substitutions.append(("%cxx", "c++"))

# Which targets this host can run: every x86-64 level its CPU supports, and aarch64 under qemu.
def _host_x86_levels():
    flags = set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    levels = {"x86-64": {"sse2"}, "x86-64-v2": {"sse4_2", "popcnt", "ssse3"},
              "x86-64-v3": {"avx2", "fma", "bmi2", "movbe", "f16c"},
              "x86-64-v4": {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"}}
    ok = []
    for name in ["x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4"]:
        if not levels[name] <= flags:
            break
        ok.append(name)
    return ok

for level in _host_x86_levels():
    config.available_features.add("host-" + level)
if os.path.exists("/usr/bin/qemu-aarch64") and os.path.exists("/usr/aarch64-linux-gnu/lib/libc.so.6"):
    config.available_features.add("qemu-aarch64")
    config.substitutions.append(("%qemu-aarch64", "qemu-aarch64 -L /usr/aarch64-linux-gnu"))
# ONNX's backend node tests (libonnx-testdata): models with inputs and expected outputs.
if os.path.isdir("/usr/include/onnx/backend/test/data/node"):
    config.available_features.add("onnx-testdata")
    config.substitutions.append(("%onnx_node_tests", "/usr/include/onnx/backend/test/data/node"))
