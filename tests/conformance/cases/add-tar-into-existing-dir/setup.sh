python3 "$CONFORMANCE/make_archives.py"
