# only one of the four lists
operations = ['atrous_5x5', 'atrous_5x5']
