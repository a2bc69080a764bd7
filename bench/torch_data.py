"""MNIST for the PyTorch side of the benchmarks: the IDX files (raw or
gzip, checked as cnist checks them) as float32 NCHW tensors in [0, 1],
uint8/255 as cnist's batcher, and int64 labels."""
import gzip
import os


def read_idx(path):
    import numpy as np
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path = path + ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit("%s: not an IDX file of unsigned bytes" % path)
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    count = 1
    for d in dims:
        count *= d
    if body.size != count:
        raise SystemExit("%s: header says %d bytes of data, file has %d" % (path, count, body.size))
    return body.reshape(dims)


def load_mnist(data_dir, torch):
    """(train_x, train_y, test_x, test_y) from data_dir's four IDX files."""
    import numpy as np
    def images(name):
        a = read_idx(os.path.join(data_dir, name))
        return torch.from_numpy(a.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    def labels(name):
        return torch.from_numpy(read_idx(os.path.join(data_dir, name)).astype(np.int64))
    return (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte"),
            images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte"))
