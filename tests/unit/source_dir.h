// The root of the checkout the tests were built from, for the unit tests
// that read files of the source tree (captured test data, conf/zoo.cfg).
#pragma once

// Defined in source_dir.cc, the one object of a test binary compiled with
// the checkout's absolute path (AVIARY_SOURCE_DIR): every other object stays
// the same in a clone in another folder, so CI's fresh clone finds them in
// ccache (a path in a test's own flags missed the cache on every CI run).
const char* AviarySourceDir();
