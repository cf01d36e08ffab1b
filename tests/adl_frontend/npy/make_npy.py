# Writes the .npy fixtures of tests/adl_frontend with NumPy itself, so the
# reader is tested on files NumPy really produces. Run from this folder
# with /usr/bin/python3 (needs numpy); the outputs are committed.
import numpy as np

path = [1, 0, 0, 1, 2, 1, 2, 2, 3, 3, 2, 1]   # PyTorch port default
cell = [[0, 7], [1, 4], [2, 4], [3, 6], [5, 4], [8, 4], [11, 5], [13, 5], [19, 7], [18, 5]]


def network_layer_to_space(net_arch):  # autodeeplab retrain_model/new_model.py
    space = np.zeros((len(net_arch), 4, 3))
    for i, layer in enumerate(net_arch):
        sample = 0 if i == 0 else {1: 0, 0: 1, -1: 2}[layer - net_arch[i - 1]]
        space[i][layer][sample] = 1
    return space


good = {
    'path_i8.npy': np.array(path, dtype='<i8'),
    'path_u1.npy': np.array(path, dtype='|u1'),
    'path_be_i4.npy': np.array(path, dtype='>i4'),
    'path_onehot_i8.npy': network_layer_to_space(path).astype(np.int64),
    'cell_u1.npy': np.array(cell, dtype=np.uint8),
    'cell_i8.npy': np.array(cell, dtype=np.int64),
    'cell_be_u2.npy': np.array(cell, dtype='>u2'),
}
for name, a in good.items():
    np.save(name, a)
np.lib.format.write_array(open('cell_v2_i4.npy', 'wb'), np.array(cell, dtype='<i4'),
                          version=(2, 0))

bad = '../bad/'
np.save(out + 'path_onehot_f8.npy', network_layer_to_space(path))  # float64, as the search saves it
np.save(bad + 'npy_fortran.cell.npy', np.asfortranarray(np.array(cell, dtype=np.int64).T).T.T)
np.save(bad + 'npy_bool.cell.npy', np.array(cell) > 3)
np.save(bad + 'npy_object.path.npy', np.array(path, dtype=object), allow_pickle=True)
np.save(bad + 'npy_step.path.npy', np.array([0, 0, 0, 0, 2, 1], dtype=np.int64))
np.save(bad + 'npy_level.path.npy', np.array([3, 9, -1], dtype=np.int16))
bad_cell = [list(r) for r in cell]
bad_cell[3][0] = 5     # row 3 is node 3's, edge 5 feeds node 4
np.save(bad + 'npy_rows.cell.npy', np.array(bad_cell, dtype=np.uint8))
bad_cell = [list(r) for r in cell]
bad_cell[6][1] = 12    # no op 12
np.save(bad + 'npy_opnum.cell.npy', np.array(bad_cell, dtype=np.int32))
np.save(bad + 'npy_shape.cell.npy', np.zeros((10, 3), dtype=np.int64))
twice = network_layer_to_space(path).astype(np.int8)
twice[2][3][1] = 1     # layer 2 marks two levels
twice[5][1][2] = 0
twice[5][1][0] = 1     # layer 5: goes 2 -> 1 but says "a step from the level above"
np.save(bad + 'npy_onehot_bad.path.npy', twice)
