backbone = 3
