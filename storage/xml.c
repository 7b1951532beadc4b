#include "storage/xml.h"

#include <libxml/parser.h>
#include <string.h>

static void free_doc(void *p)
{
    xmlFreeDoc(p);
}

xmlDocPtr az_xml_parse(dg_arena *a, const char *text, size_t n)
{
    if (n == 0 || n > (size_t) 0x7fffffff)
        return NULL;
    xmlDocPtr doc =
        xmlReadMemory(text, (int) n, NULL, NULL,
                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
    if (doc)
        dg_arena_defer(a, free_doc, doc);
    return doc;
}

xmlNodePtr az_xml_child(xmlNodePtr parent, const char *name)
{
    if (!parent)
        return NULL;
    for (xmlNodePtr c = parent->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *) c->name, name) == 0)
            return c;
    return NULL;
}

char *az_xml_text(dg_arena *a, xmlNodePtr node)
{
    if (!node)
        return NULL;
    xmlChar *t = xmlNodeGetContent(node);
    char *r = dg_arena_strdup(a, t ? (const char *) t : "");
    xmlFree(t);
    return r;
}

char *az_xml_child_text(dg_arena *a, xmlNodePtr parent, const char *name)
{
    return az_xml_text(a, az_xml_child(parent, name));
}
