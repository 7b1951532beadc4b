#include "base/time.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t dg_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t dg_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

dg_ticks dg_now_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (dg_ticks) ts.tv_sec * DG_TICKS_PER_SEC + ts.tv_nsec / 100;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned) (y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned) (z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t) yoe + era * 400 + (*m <= 2);
}

struct parts {
    int64_t year;
    unsigned mon, day, hour, min, sec, frac7, wday;
};

static struct parts split(dg_ticks t)
{
    struct parts p;
    int64_t secs = t / DG_TICKS_PER_SEC;
    int64_t rem = t % DG_TICKS_PER_SEC;
    if (rem < 0) {
        rem += DG_TICKS_PER_SEC;
        secs -= 1;
    }
    int64_t days = secs / 86400;
    int64_t sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days -= 1;
    }
    civil_from_days(days, &p.year, &p.mon, &p.day);
    p.hour = (unsigned) (sod / 3600);
    p.min = (unsigned) (sod / 60 % 60);
    p.sec = (unsigned) (sod % 60);
    p.frac7 = (unsigned) rem;
    int64_t w = (days + 4) % 7; /* 1970-01-01 was a Thursday */
    p.wday = (unsigned) (w < 0 ? w + 7 : w);
    return p;
}

static void put_digits(char *o, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--, v /= 10)
        o[i] = (char) ('0' + v % 10);
}

void dg_iso_format(dg_ticks t, char out[DG_ISO_LEN])
{
    struct parts p = split(t);
    if (p.year < 0 || p.year > 9999) {
        snprintf(out, DG_ISO_LEN, "%04lld-%02u-%02uT%02u:%02u:%02u.%07uZ", (long long) p.year, p.mon, p.day,
                 p.hour, p.min, p.sec, p.frac7);
        return;
    }
    /* By hand: lists format two of these per row, and snprintf was most of a row's cost. */
    memcpy(out, "0000-00-00T00:00:00.0000000Z", 29);
    put_digits(out, (unsigned) p.year, 4);
    put_digits(out + 5, p.mon, 2);
    put_digits(out + 8, p.day, 2);
    put_digits(out + 11, p.hour, 2);
    put_digits(out + 14, p.min, 2);
    put_digits(out + 17, p.sec, 2);
    put_digits(out + 20, p.frac7, 7);
}

void dg_rfc1123_format(dg_ticks t, char out[DG_RFC1123_LEN])
{
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct parts p = split(t);
    snprintf(out, DG_RFC1123_LEN, "%s, %02u %s %04lld %02u:%02u:%02u GMT", wd[p.wday], p.day, mo[p.mon - 1],
             (long long) p.year, p.hour, p.min, p.sec);
}

static int digits(const char *s, size_t n, size_t at, size_t count, unsigned *out)
{
    unsigned v = 0;
    if (at + count > n)
        return -1;
    for (size_t i = 0; i < count; i++) {
        char c = s[at + i];
        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (unsigned) (c - '0');
    }
    *out = v;
    return 0;
}

dg_err dg_iso_parse(const char *s, size_t n, dg_ticks *out)
{
    unsigned y, mo, d, h, mi, se;
    if (n < 19 || digits(s, n, 0, 4, &y) || s[4] != '-' || digits(s, n, 5, 2, &mo) || s[7] != '-' ||
        digits(s, n, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s, n, 11, 2, &h) ||
        s[13] != ':' || digits(s, n, 14, 2, &mi) || s[16] != ':' || digits(s, n, 17, 2, &se))
        return DG_EINVAL;
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
        return DG_EINVAL;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return DG_EINVAL;
    size_t i = 19;
    unsigned frac = 0, fd = 0;
    if (i < n && s[i] == '.') {
        i++;
        size_t start = i;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            if (fd < 7) {
                frac = frac * 10 + (unsigned) (s[i] - '0');
                fd++;
            }
            i++;
        }
        if (i == start)
            return DG_EINVAL;
        while (fd < 7) {
            frac *= 10;
            fd++;
        }
    }
    int64_t offset_s = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        int sign = s[i] == '-' ? -1 : 1;
        if (digits(s, n, i + 1, 2, &oh) || i + 3 >= n || s[i + 3] != ':' || digits(s, n, i + 4, 2, &om) ||
            oh > 23 || om > 59)
            return DG_EINVAL;
        offset_s = sign * (int64_t) (oh * 3600 + om * 60);
        i += 6;
    }
    if (i != n)
        return DG_EINVAL;
    int64_t days = days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
    *out = secs * DG_TICKS_PER_SEC + frac;
    return DG_OK;
}

void dg_iso_format_trimmed(dg_ticks t, char out[DG_ISO_LEN])
{
    dg_iso_format(t, out); /* yyyy-MM-ddTHH:mm:ss.fffffffZ */
    size_t end = 26;       /* the last fraction digit; the dot is at 19 */
    while (end > 19 && out[end] == '0')
        end--;
    if (end == 19) /* no fraction left: drop the dot too */
        end = 18;
    out[end + 1] = 'Z';
    out[end + 2] = '\0';
}
