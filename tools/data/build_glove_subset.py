"""Extract the GloVe vectors of a data set's words into a ``word2id.json`` + ``embeds.npy`` folder.

As in the EMTM reference, the vocabulary is every token of the given annotation files (usually
train and test), ordered by frequency and kept only when GloVe has a vector for it::

    python tools/data/build_glove_subset.py --glove data/glove/glove.840B.300d.txt \
        --ann data/tacos/train.json data/tacos/test.json --out data/tacos/glove
    python tools/data/build_glove_subset.py --glove data/glove/glove.840B.300d.txt \
        --ann data/my_dataset/sentences.csv --out data/my_dataset/glove
"""
import argparse
import json

import mmemtm  # noqa: F401
from mmemtm.datasets import read_queries
from mmemtm.text import WordVocabulary, count_words, tokenize


def main() -> None:
    parser = argparse.ArgumentParser(description='Build a GloVe subset for a data set')
    parser.add_argument('--glove', required=True, help='GloVe text file (glove.840B.300d.txt)')
    parser.add_argument('--ann', nargs='+', required=True, help='annotation files')
    parser.add_argument('--reader', help='reader config of the annotation files, as JSON '
                        '(default: CSVReader for .csv files, JsonListReader for the others)')
    parser.add_argument('--out', required=True, help='output folder')
    args = parser.parse_args()
    reader = json.loads(args.reader) if args.reader else None
    sentences = [q['sentence'] for ann in args.ann
                 for q in read_queries(ann, reader, skip_invalid=True)[0]]
    words = count_words(tokenize(s) for s in sentences)
    glove = WordVocabulary.from_glove_text(args.glove, keep=set(words))
    kept = [w for w in words if w in glove]
    WordVocabulary(kept, glove.vectors[[glove.stoi[w] for w in kept]]).save(args.out)
    print(f'{len(kept)} of {len(words)} words have a GloVe vector; written to {args.out}')


if __name__ == '__main__':
    main()
