backbone = [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]
operations = ['atrous_5x5', 'separable_3x3_2
