"""A stand-in for bitnet-opt that prints a file as is, but adds a line when it reads standard
input: roundtrip-all.test uses it to check that roundtrip_all.py catches a difference."""
import sys

if sys.argv[1] == "-":
    sys.stdout.write(sys.stdin.read() + "# printed twice\n")
else:
    with open(sys.argv[1]) as f:
        sys.stdout.write(f.read())
