# modes git does not keep exactly
mkdir -p d && echo in > d/in && printf 'f\n' > f && printf 'fx\n' > fx
chmod 644 f d/in && chmod 755 fx d
