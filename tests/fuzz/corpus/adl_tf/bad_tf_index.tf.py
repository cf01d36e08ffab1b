backbone = [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]
operations = ['atrous_5x5', 'separable_3x3_2', 'separable_3x3_2', 'atrous_3x3',
              'separable_3x3_2', 'separable_3x3_2', 'separable_5x5_2',
              'separable_5x5_2', 'separable_5x5_2', 'atrous_5x5']
used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]
hiddenstate_indices = [2, 0, 1, 3, 3, 1, 4, 2, -1, 'x']
