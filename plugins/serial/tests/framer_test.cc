// SPDX-License-Identifier: Apache-2.0
// The framer: delimiters, CRLF, frames split across reads, overlong frames and resynchronisation,
// partial frames at a disconnect.
#include "framer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgegw::plugins::serial {
namespace {

struct Collector {
  std::vector<std::string> frames;
  void feed(Framer& f, std::string_view bytes) {
    f.feed(bytes, [this](std::string_view frame) { frames.emplace_back(frame); });
  }
};

using Frames = std::vector<std::string>;

TEST(Framer, LinesEndAtLfAndOneCrBeforeItIsRemoved) {
  Framer f("\n", true, 4096);
  Collector c;
  c.feed(f, "a,1\nb,2\r\nc,3\r\r\n");
  EXPECT_EQ(c.frames, (Frames{"a,1", "b,2", "c,3\r"}));
  EXPECT_EQ(f.pending(), 0u);
  EXPECT_EQ(f.overlong(), 0u);
}

TEST(Framer, EmptyLinesAreSkipped) {
  Framer f("\n", true, 4096);
  Collector c;
  c.feed(f, "\n\r\na\n\n");
  EXPECT_EQ(c.frames, (Frames{"a"}));
}

TEST(Framer, AFrameSplitAcrossReadsIsJoined) {
  Framer f("\n", true, 4096);
  Collector c;
  c.feed(f, "temp,2");
  EXPECT_TRUE(c.frames.empty());
  EXPECT_EQ(f.pending(), 6u);
  c.feed(f, "1.5");
  c.feed(f, "\r");
  c.feed(f, "\nhum,4");
  c.feed(f, "0\n");
  EXPECT_EQ(c.frames, (Frames{"temp,21.5", "hum,40"}));
  EXPECT_EQ(f.pending(), 0u);
}

TEST(Framer, EveryByteInItsOwnReadGivesTheSameFrames) {
  const std::string stream = "a;b;;ccc;dd";
  for (const std::string delim : {";", ";;", "\r\n"}) {
    Framer whole(delim, false, 100);
    Framer bytewise(delim, false, 100);
    Collector a, b;
    a.feed(whole, stream);
    for (char ch : stream) b.feed(bytewise, std::string_view(&ch, 1));
    EXPECT_EQ(a.frames, b.frames) << "delimiter " << delim;
    EXPECT_EQ(whole.pending(), bytewise.pending());
  }
}

TEST(Framer, MultiByteDelimiterSplitAcrossReads) {
  Framer f("<E>", false, 4096);
  Collector c;
  c.feed(f, "one<");
  c.feed(f, "E");
  c.feed(f, "><E>two<E");
  EXPECT_EQ(c.frames, (Frames{"one"}));
  c.feed(f, ">three<<E>");
  EXPECT_EQ(c.frames, (Frames{"one", "two", "three<"}));
}

TEST(Framer, CustomSingleByteDelimiterKeepsNewlines) {
  Framer f("\x03", false, 4096);
  Collector c;
  c.feed(f, "line 1\nline 2\x03next\x03");
  EXPECT_EQ(c.frames, (Frames{"line 1\nline 2", "next"}));
}

TEST(Framer, AFrameOfExactlyMaxFrameIsKeptOneMoreIsDropped) {
  Framer f("\n", true, 8);
  Collector c;
  c.feed(f, "12345678\n123456789\n12345678\r\nok\n");
  EXPECT_EQ(c.frames, (Frames{"12345678", "12345678", "ok"}));
  EXPECT_EQ(f.overlong(), 1u);
}

TEST(Framer, OverlongFrameIsDroppedWhileStreamingAndReadingResynchronises) {
  Framer f("\n", true, 16);
  Collector c;
  c.feed(f, "good,1\n");
  // 10 KiB without a delimiter, in chunks: memory stays bounded and it is counted once.
  const std::string noise(1024, 'x');
  for (int i = 0; i < 10; ++i) {
    c.feed(f, noise);
    EXPECT_LE(f.pending(), 17u);
  }
  EXPECT_EQ(f.overlong(), 1u);
  c.feed(f, "xx\ngood,2\n");
  EXPECT_EQ(c.frames, (Frames{"good,1", "good,2"}));
  EXPECT_EQ(f.overlong(), 1u);
}

TEST(Framer, OverlongWithMultiByteDelimiterResynchronisesOnADelimiterSplitAcrossReads) {
  Framer f("##", false, 4);
  Collector c;
  c.feed(f, "abcdefgh#");
  EXPECT_EQ(f.overlong(), 1u);
  c.feed(f, "#ok##");
  EXPECT_EQ(c.frames, (Frames{"ok"}));
}

TEST(Framer, ResetReportsAPartialFrameOnly) {
  Framer f("\n", true, 8);
  Collector c;
  EXPECT_FALSE(f.reset());
  c.feed(f, "a\npart");
  EXPECT_TRUE(f.reset());
  EXPECT_EQ(f.pending(), 0u);
  c.feed(f, "\r");
  EXPECT_FALSE(f.reset());  // a lone CR is no frame
  c.feed(f, "0123456789");  // overlong: already counted, not also partial
  EXPECT_FALSE(f.reset());
  c.feed(f, "tail\n");  // after a reset the next bytes start a new frame
  EXPECT_EQ(c.frames, (Frames{"a", "tail"}));
  EXPECT_EQ(f.overlong(), 1u);
}

}  // namespace
}  // namespace edgegw::plugins::serial
