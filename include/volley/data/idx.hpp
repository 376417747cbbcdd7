#pragma once
// IDX files (the MNIST / Fashion-MNIST format), gzip-compressed or not, and the Fashion-MNIST
// image sets built from them. An IDX file is a 4-byte magic number 0x0000TTNN (TT the data type,
// 0x08 = uint8; NN the number of dimensions), NN big-endian int32 sizes, then the data in
// row-major order. Only uint8 data is supported.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace volley::data {

// IDX magic numbers of the two kinds of file Fashion-MNIST uses.
inline constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  // uint8, 1-D (labels)
inline constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  // uint8, 3-D (n x rows x cols)

// Where `apt-get install dataset-fashion-mnist` puts the data.
inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// The contents of an IDX file: sizes and the data, row-major.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads an IDX file of uint8 data, gzip-compressed or not (detected from the content, not the
// name). With expected_magic != 0 the magic number must equal it (e.g. kIdxImagesMagic).
// Throws IoError naming the path for a missing file, a file that is neither gzip nor IDX, a
// wrong magic number, a data type other than uint8, truncated data and trailing data.
IdxArray read_idx(const std::string& path, std::uint32_t expected_magic = 0);

// n grey-scale images of rows x cols pixels (pixels[i*rows*cols + r*cols + c]) and their labels.
struct ImageSet {
  std::size_t n = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;
};

// Loads the Fashion-MNIST training set (train = true: train-images-idx3-ubyte and
// train-labels-idx1-ubyte) or test set (t10k-...) from dir, preferring the .gz files and falling
// back to uncompressed ones. limit > 0 keeps the first `limit` samples. Throws IoError when the
// directory or a file is missing (saying how to install the data), when the image and label
// counts differ, or when a label is not in [0, 10).
ImageSet load_fashion_mnist(const std::string& dir = kFashionMnistDir, bool train = true,
                            std::size_t limit = 0);

}  // namespace volley::data
