backbone = [0, 0, 0, 1]
backbone = [0, 0, 0, 1]
