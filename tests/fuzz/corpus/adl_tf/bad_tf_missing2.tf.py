operations = ['atrous_5x5', 'atrous_5x5']; used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]
filter_multiplier = [20]
