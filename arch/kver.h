/*
 * kver.h - kernel versions as codes major * 1000 + minor (6.12 -> 6012),
 * parsed from a release string (uname -r). No engine types here, so that
 * code which also sees the decoder's structs can use it.
 */
#ifndef FL_ARCH_KVER_H
#define FL_ARCH_KVER_H

#define FL_KVER(major, minor) ((major) * 1000 + (minor))

/* "6.12.0-1-amd64" or "6.12" -> 6012; -1 if it does not start with N.N. */
int fl_kver_parse(const char *release);
/* 6012 -> "6.12" into buf (16 bytes). */
const char *fl_kver_str(int kver, char *buf);

#endif
