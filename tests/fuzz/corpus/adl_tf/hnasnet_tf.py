# The Auto-DeepLab cell and path released with TF DeepLab ("hnasnet",
# tensorflow/models research/deeplab/core/nas_network.py), as nasc reads
# it: the four assignments in any order, comments, indentation.
    operations = [
        'atrous_5x5', 'separable_3x3_2', 'separable_3x3_2', 'atrous_3x3',
        'separable_3x3_2', 'separable_3x3_2', 'separable_5x5_2',
        'separable_5x5_2', 'separable_5x5_2', 'atrous_5x5',
    ]
    used_hiddenstates = [1, 1, 0, 0, 0, 0, 0]  # the two inputs
    hiddenstate_indices = [1, 0, 1, 0, 3, 1, 4, 2, 3, 5]
    backbone = [0, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]
