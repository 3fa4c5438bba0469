// ktm/codec.h: the byte layout of Writer (little-endian fixed-width integers,
// length-prefixed bytes and strings) and Reader's round trip, including a
// Writer that grows past its first allocation and one that reuses a buffer.
#include "ktm/codec.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ktm {
namespace {

TEST(Codec, WriterLaysOutIntegersLittleEndianAndBytesLengthPrefixed) {
  Writer w;
  w.U8(0xab);
  w.U32(0x01020304u);
  w.U64(0x1122334455667788ull);
  w.Str("hi");
  const std::vector<uint8_t> raw = {9, 8};
  w.Raw(raw);
  const std::vector<uint8_t> expected = {0xab, 0x04, 0x03, 0x02, 0x01, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33,
                                         0x22, 0x11, 2,    0,    0,    0,    'h',  'i',  9,    8};
  EXPECT_EQ(w.data(), expected);
}

TEST(Codec, ReaderReadsBackWhatAGrowingWriterWrote) {
  Writer w;
  std::vector<Guid> ids;
  for (uint64_t i = 0; i < 40; ++i) {  // 640 bytes: several regrowths past the first 64
    ids.push_back(Guid{i * 0x0101010101010101ull, ~i});
    w.Id(ids.back());
    if (i % 7 == 0) w.Str(std::string(i, 'x'));
  }
  w.U32(7);
  Reader r(w.data());
  for (uint64_t i = 0; i < 40; ++i) {
    EXPECT_EQ(r.Id(), ids[i]) << i;
    if (i % 7 == 0) {
      EXPECT_EQ(r.Str(), std::string(i, 'x'));
    }
  }
  EXPECT_EQ(r.U32(), 7u);
  EXPECT_TRUE(r.done());
}

TEST(Codec, AReusedBufferHoldsOnlyTheNewEncoding) {
  Writer first;
  for (int i = 0; i < 20; ++i) first.U64(static_cast<uint64_t>(i));
  std::vector<uint8_t> buffer = first.TakeBuffer();
  EXPECT_EQ(buffer.size(), 160u);
  Writer second(std::move(buffer));
  second.U32(5);
  EXPECT_EQ(second.data(), (std::vector<uint8_t>{5, 0, 0, 0}));
  buffer = second.TakeBuffer();
  EXPECT_EQ(buffer.size(), 4u);
  EXPECT_GE(buffer.capacity(), 160u);  // the storage came back for the next record
}

// A Writer kept for many records: after Reset, view() holds only the new
// encoding (a shorter one too), though the storage keeps the old bytes.
TEST(Codec, ResetStartsANewEncodingInTheSameStorage) {
  Writer w;
  for (int i = 0; i < 20; ++i) w.U64(static_cast<uint64_t>(i) + 1);
  ASSERT_EQ(w.view().size(), 160u);
  const uint8_t* storage = w.view().data();
  w.Reset();
  EXPECT_TRUE(w.view().empty());
  w.U32(5);
  w.U8(9);
  EXPECT_EQ(std::vector<uint8_t>(w.view().begin(), w.view().end()), (std::vector<uint8_t>{5, 0, 0, 0, 9}));
  EXPECT_EQ(w.view().data(), storage);  // no new storage for a record that fits
  EXPECT_EQ(w.data(), (std::vector<uint8_t>{5, 0, 0, 0, 9}));
}

TEST(Codec, WritingAfterLookingAtTheDataAppends) {
  Writer w;
  w.U8(1);
  EXPECT_EQ(w.data().size(), 1u);
  w.U8(2);
  EXPECT_EQ(w.data(), (std::vector<uint8_t>{1, 2}));
}

}  // namespace
}  // namespace ktm
