#include "base/err.h"

const char *dg_err_str(dg_err e)
{
    switch (e) {
    case DG_OK:
        return "ok";
    case DG_EINVAL:
        return "invalid argument";
    case DG_ENOTFOUND:
        return "not found";
    case DG_ECONFLICT:
        return "conflict";
    case DG_EPRECOND:
        return "precondition failed";
    case DG_EAUTH:
        return "storage authentication failed";
    case DG_ETHROTTLED:
        return "storage throttled";
    case DG_EUNAVAIL:
        return "storage unavailable";
    case DG_ETIMEOUT:
        return "deadline exceeded";
    case DG_EBADRESP:
        return "bad answer from storage";
    case DG_ETOOBIG:
        return "too large";
    case DG_ESTORAGE:
        return "storage rejected the request";
    case DG_ECANCELED:
        return "cancelled";
    }
    return "unknown error";
}
