mkdir real && echo r > real/f && ln -s real link
