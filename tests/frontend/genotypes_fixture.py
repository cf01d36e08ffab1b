"""Fixture for test_genotype: a genotypes.py in the style of DARTS and its
descendants, with the syntax variants the reader must accept. Not a real
search result: the genotypes below are made up for the test.
A docstring may mention Genotype(normal=...) and contain 'quotes' and ( [
unbalanced brackets without confusing the reader.
"""
from collections import namedtuple

Genotype = namedtuple('Genotype', 'normal normal_concat reduce reduce_concat')

PRIMITIVES = [
    'none',
    'max_pool_3x3',  # a comment inside brackets
    'avg_pool_3x3',
    'skip_connect',
    'sep_conv_3x3',
    'sep_conv_5x5',
    'dil_conv_3x3',
    'dil_conv_5x5'
]

HASH = '# not a comment, ( not a bracket'
NUMBERS = {'a': 1.5e-3, "b": [0x1F, 1_000]}; OTHER = r'\d+'

# Double quotes, one edge per line, comments between edges, trailing commas.
MULTI = Genotype(
    normal=[
        ("sep_conv_3x3", 1),
        ("sep_conv_5x5", 0),   # comment after an edge
        ("dil_conv_3x3", 2),
        ("skip_connect", 0),
    ],
    normal_concat=range(2, 4),
    reduce=[("max_pool_3x3", 0), ("avg_pool_3x3", 1),
            ("dil_conv_5x5", 2), ("conv_7x1_1x7", 1),],
    reduce_concat=range(2, 4),
)

# Keyword arguments in another order, mixed quotes, list(range()), spaces.
SHUFFLED = Genotype(reduce_concat = [2, 1], reduce = [ ( 'none' , 1 ) , ( "sep_conv_7x7" , 0 , ) ], normal_concat=list(range(2, 3)), normal=[('skip_connect', 0), ('avg_pool_3x3', 1)])

# Positional arguments in namedtuple order and a line continuation.
POSITIONAL = Genotype([('sep_conv_3x3', 0), ('sep_conv_3x3', 1)], [2], \
    [('max_pool_3x3', 0), ('max_pool_3x3', 1)], (2,))

# The form DARTS' train_search.py logs: concat as range(2, 6).
SEARCHED = Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), ('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), ('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), ('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))

SHORT = POSITIONAL
ALIAS_OF_ALIAS = SHORT
derived = make_genotype(SHORT)
UNKNOWN_ALIAS = NOT_DEFINED


def make_genotype(g):
    return Genotype(normal=g.normal, normal_concat=g.normal_concat,
                    reduce=g.reduce, reduce_concat=g.reduce_concat)


if __name__ == '__main__':
    print(SEARCHED)
