/* The validator's per-message arithmetic in C (optional: fastpath.py has the same in Python).
 *
 * token_keys(examples, ascii_units, other_units, sep_units) -> list[int]
 *
 *   examples: a list of lists of messages, each message an object whose ``content`` is a str
 *   (the validator's typed msgspec Structs). For each list of n messages, its key is
 *
 *       sep_units * (n - 1) + sum(units(content))
 *       units(text) = ascii_units * len(text)        if text is ASCII
 *                     other_units * utf8_size(text)  otherwise
 *
 *   where utf8_size counts a lone surrogate as 3 bytes, as text.encode("utf-8", "surrogatepass").
 *   These are the numbers of _FileCheck._batch_token_keys: the heuristic token counter's units of
 *   the contents joined by the chat separator. Doing it here saves the joined string and, for
 *   non-ASCII text, the encoded copy: the one pass over a string's code points counts its bytes.
 *
 * Raises TypeError when an item is not a list or a content is not a str, and never stops on
 * a partial result.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *content_name; /* interned "content" */

/* UTF-8 bytes of the code points of ``text`` (a lone surrogate: 3 bytes). */
static Py_ssize_t
utf8_size(PyObject *text)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), size = n, i;
    const void *data = PyUnicode_DATA(text);

    switch (PyUnicode_KIND(text)) {
    case PyUnicode_1BYTE_KIND: {
        const Py_UCS1 *p = data;
        for (i = 0; i < n; i++)
            size += p[i] >> 7;
        break;
    }
    case PyUnicode_2BYTE_KIND: {
        const Py_UCS2 *p = data;
        for (i = 0; i < n; i++)
            size += (p[i] >= 0x80) + (p[i] >= 0x800);
        break;
    }
    default: {
        const Py_UCS4 *p = data;
        for (i = 0; i < n; i++)
            size += (p[i] >= 0x80) + (p[i] >= 0x800) + (p[i] >= 0x10000);
        break;
    }
    }
    return size;
}

static PyObject *
token_keys(PyObject *module, PyObject *args)
{
    PyObject *examples, *out;
    Py_ssize_t ascii_units, other_units, sep_units, n, i;

    if (!PyArg_ParseTuple(args, "O!nnn:token_keys", &PyList_Type, &examples, &ascii_units,
                          &other_units, &sep_units))
        return NULL;
    n = PyList_GET_SIZE(examples);
    out = PyList_New(n);
    if (out == NULL)
        return NULL;
    for (i = 0; i < n; i++) {
        PyObject *messages = PyList_GET_ITEM(examples, i), *k;
        Py_ssize_t m, j, key;

        if (!PyList_Check(messages)) {
            PyErr_Format(PyExc_TypeError, "token_keys: item %zd is a %.100s, not a list", i,
                         Py_TYPE(messages)->tp_name);
            goto fail;
        }
        m = PyList_GET_SIZE(messages);
        key = m > 0 ? sep_units * (m - 1) : 0;
        for (j = 0; j < m; j++) {
            PyObject *text = PyObject_GetAttr(PyList_GET_ITEM(messages, j), content_name);

            if (text == NULL)
                goto fail;
            if (!PyUnicode_Check(text)) {
                PyErr_Format(PyExc_TypeError,
                             "token_keys: content of message %zd of item %zd is a %.100s, not a str",
                             j, i, Py_TYPE(text)->tp_name);
                Py_DECREF(text);
                goto fail;
            }
#if PY_VERSION_HEX < 0x030C0000
            if (PyUnicode_READY(text) < 0) { /* a legacy string: its code points first */
                Py_DECREF(text);
                goto fail;
            }
#endif
            if (PyUnicode_IS_ASCII(text))
                key += ascii_units * PyUnicode_GET_LENGTH(text);
            else
                key += other_units * utf8_size(text);
            Py_DECREF(text);
        }
        k = PyLong_FromSsize_t(key);
        if (k == NULL)
            goto fail;
        PyList_SET_ITEM(out, i, k);
    }
    return out;

fail:
    Py_DECREF(out); /* items not set yet are NULL, which list_dealloc skips */
    return NULL;
}

static PyMethodDef speedups_methods[] = {
    {"token_keys", token_keys, METH_VARARGS,
     "token_keys(examples, ascii_units, other_units, sep_units) -> list[int]\n\n"
     "Heuristic token units of each list of messages (see the module source)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "_speedups",
    "The validator's per-message token arithmetic in C (fastpath.py has the same in Python).",
    -1,
    speedups_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (content_name == NULL) {
        content_name = PyUnicode_InternFromString("content");
        if (content_name == NULL)
            return NULL;
    }
    return PyModule_Create(&speedups_module);
}
