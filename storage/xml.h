/* Private to storage/: the few XML answers of Blob and Queue (message lists,
 * blob listings, error bodies) parsed with libxml2, without network access or
 * entity expansion. */
#ifndef AZ_XML_H
#define AZ_XML_H

#include "base/arena.h"

#include <libxml/tree.h>
#include <stddef.h>

/* NULL when the text is not well-formed XML. Free with xmlFreeDoc (or defer it). */
xmlDocPtr az_xml_parse(dg_arena *a, const char *text, size_t n);
/* The first element child of `parent` named `name`, or NULL. */
xmlNodePtr az_xml_child(xmlNodePtr parent, const char *name);
/* The element's text content in the arena ("" for an empty element, NULL for a NULL node). */
char *az_xml_text(dg_arena *a, xmlNodePtr node);
/* The text of the child named `name`, or NULL. */
char *az_xml_child_text(dg_arena *a, xmlNodePtr parent, const char *name);

#endif
