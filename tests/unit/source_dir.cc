#include "source_dir.h"

const char* AviarySourceDir() { return AVIARY_SOURCE_DIR; }
