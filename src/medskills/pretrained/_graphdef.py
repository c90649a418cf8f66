"""Read the constant tensors of a frozen TensorFlow graph (``GraphDef``) without TensorFlow.

TensorFlow's ``.proto`` schema is not shipped outside TensorFlow, so the handful of messages a
frozen graph's constants need are declared here by field number (from TensorFlow's
``graph.proto``, ``node_def.proto``, ``attr_value.proto``, ``tensor.proto`` and
``tensor_shape.proto``) and parsed by the ``protobuf`` runtime. Fields not declared are skipped by
the parser, so this reads any GraphDef; it only understands float32 constants.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from medskills.core.errors import EnvironmentProblem

__all__ = ["read_float_constants"]

_DT_FLOAT = 1  # tensorflow.DataType.DT_FLOAT
_PACKAGE = "medskills_graphdef"

# (message, [(field name, number, type, label, message type or "")]); numbers are TensorFlow's.
_SCHEMA: tuple[tuple[str, tuple[tuple[str, int, str, str, str], ...]], ...] = (
    ("Dim", (("size", 1, "int64", "optional", ""),)),
    ("TensorShapeProto", (("dim", 2, "message", "repeated", "Dim"),)),
    ("TensorProto", (
        ("dtype", 1, "enum_as_int32", "optional", ""),
        ("tensor_shape", 2, "message", "optional", "TensorShapeProto"),
        ("tensor_content", 4, "bytes", "optional", ""),
        ("float_val", 5, "float", "repeated", ""),
    )),
    ("AttrValue", (("tensor", 8, "message", "optional", "TensorProto"),)),
    ("AttrEntry", (("key", 1, "string", "optional", ""), ("value", 2, "message", "optional", "AttrValue"))),
    ("NodeDef", (
        ("name", 1, "string", "optional", ""),
        ("op", 2, "string", "optional", ""),
        ("attr", 5, "message", "repeated", "AttrEntry"),  # a proto map is a repeated key/value entry on the wire
    )),
    ("GraphDef", (("node", 1, "message", "repeated", "NodeDef"),)),
)


def _graphdef_class() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    types = descriptor_pb2.FieldDescriptorProto
    type_codes = {"int64": types.TYPE_INT64, "enum_as_int32": types.TYPE_INT32, "bytes": types.TYPE_BYTES,
                  "float": types.TYPE_FLOAT, "string": types.TYPE_STRING, "message": types.TYPE_MESSAGE}
    labels = {"optional": types.LABEL_OPTIONAL, "repeated": types.LABEL_REPEATED}
    file_proto = descriptor_pb2.FileDescriptorProto(name=f"{_PACKAGE}.proto", package=_PACKAGE, syntax="proto3")
    for message_name, fields in _SCHEMA:
        message = file_proto.message_type.add(name=message_name)
        for name, number, kind, label, type_name in fields:
            field = message.field.add(name=name, number=number, type=type_codes[kind], label=labels[label])
            if type_name:
                field.type_name = f".{_PACKAGE}.{type_name}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file_proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.GraphDef"))


def read_float_constants(path: Path) -> dict[str, npt.NDArray[np.float32]]:
    """Every float32 ``Const`` node of the frozen graph at ``path``, by node name, in TensorFlow's layout.

    Raises:
        EnvironmentProblem: the file is not a parsable GraphDef.
    """
    from google.protobuf.message import DecodeError

    graph = _graphdef_class()()
    try:
        graph.ParseFromString(Path(path).read_bytes())
    except DecodeError as err:
        raise EnvironmentProblem(f"{path} is not a TensorFlow GraphDef ({err}). Reinstall the package that ships it.") from err
    constants: dict[str, npt.NDArray[np.float32]] = {}
    for node in graph.node:
        if node.op != "Const":
            continue
        tensor = next((entry.value.tensor for entry in node.attr if entry.key == "value"), None)
        if tensor is None or tensor.dtype != _DT_FLOAT:
            continue
        shape = [int(dim.size) for dim in tensor.tensor_shape.dim]
        if tensor.tensor_content:
            values = np.frombuffer(tensor.tensor_content, dtype="<f4")
        else:  # small tensors are stored as float_val; a single value fills the whole shape
            values = np.asarray(tensor.float_val, dtype=np.float32)
            if values.size == 1:
                values = np.full(int(np.prod(shape)), values[0], dtype=np.float32)
        constants[node.name] = values.reshape(shape).astype(np.float32)
    return constants
