tar --owner=0 --group=0 --mtime=@0 -cf z.tar -C src . && zstd -q --rm z.tar -o z.tar.zst && rm -rf src
