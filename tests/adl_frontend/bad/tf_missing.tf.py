# only two of the four lists
operations = ['atrous_5x5'] * 10
