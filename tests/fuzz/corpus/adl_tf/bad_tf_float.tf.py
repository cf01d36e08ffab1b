backbone = [0, 0, 1.5]
