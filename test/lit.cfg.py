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
