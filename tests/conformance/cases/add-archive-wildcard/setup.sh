mkdir sub && cd sub && python3 "$CONFORMANCE/make_archives.py"
