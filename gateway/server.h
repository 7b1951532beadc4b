/* The libmicrohttpd front end. Only gateway/ touches struct MHD_Connection. */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include "gateway/config.h"
#include "routes/router.h"

typedef struct gw_server gw_server;

/* Starts listening; NULL (with a logged reason) if the address cannot be bound. */
/* env (copied) holds the storage clients and keys (NULL: auth disabled, only
 * with --no-auth); what it points to must outlive the server. */
gw_server *gw_server_start(const struct gw_config *cfg, const struct rt_env *env);
/* The port actually bound (useful with --port 0). */
unsigned gw_server_port(const gw_server *s);
void gw_server_stop(gw_server *s);

#endif
