// choose_zygote: code importing a preloaded package goes to the full zygote, other code to lean.
#include <gtest/gtest.h>

#include "pool/engine.h"

namespace sbx::pool {
namespace {

const std::vector<std::string> kPreload = {"numpy", "pandas", "matplotlib.pyplot", "bs4"};

TEST(ChooseZygote, ImportsOfPreloadedPackagesPickFull) {
    EXPECT_EQ(choose_zygote("import pandas as pd\nprint(1)", kPreload), ZygoteKind::full);
    EXPECT_EQ(choose_zygote("from matplotlib import pyplot", kPreload), ZygoteKind::full);
    EXPECT_EQ(choose_zygote("x = 1\n    import numpy\n", kPreload), ZygoteKind::full);
    EXPECT_EQ(choose_zygote("import os, bs4", kPreload), ZygoteKind::full);
}

TEST(ChooseZygote, OtherCodePicksLean) {
    EXPECT_EQ(choose_zygote("print('hi')", kPreload), ZygoteKind::lean);
    EXPECT_EQ(choose_zygote("import numpyish\nimport mypandas", kPreload), ZygoteKind::lean);
    EXPECT_EQ(choose_zygote("", kPreload), ZygoteKind::lean);
    EXPECT_EQ(choose_zygote("print('pandas')", kPreload), ZygoteKind::lean);
}

}  // namespace
}  // namespace sbx::pool
