#include "app/cli.h"

int main(int argc, char** argv) { return edgegw::app::main_cli(argc, argv); }
