# Python semantics: the later assignment wins (and is the one checked).
Aÿ= Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=[2],
             reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1)], reduce_concat=[2])
A = Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], normal_concat=[2],
             reduce=[('max_pool_3x3', 0), ('max_pool_9x9', 1)], reduce_concat=[2])
