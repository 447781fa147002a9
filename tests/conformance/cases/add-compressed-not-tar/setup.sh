printf 'plain text' | gzip -n > data.gz
