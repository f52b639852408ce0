/* cmds.h - the CLI handlers (one per the cmd-*.c files), used only by main.c. */
#ifndef FL_CMDS_H
#define FL_CMDS_H
int cmd_capture(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_replay(int argc, char **argv);
#endif
