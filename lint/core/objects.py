"""The object model of the analysed code: classes and their MRO, instances of plain classes
(configs, dataclasses, NamedTuples), attributes, ``super()``; instances of classes deriving from a
framework's base (an ``nn.Module``) are built by that framework.  A mixin of Interpreter."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional

from . import dims as D
from . import ndarray as ND
from .framework_api import NOT_MINE
from .project import ModuleRef
from .source import ClassInfo, dotted
from .values import (ATTR_DICTS, UNKNOWN, BoundMethod, ClassValue, FunctionValue, ModuleValue, NDArray, ObjectValue,
                     Param, Partial, Qual, is_record_type)

if TYPE_CHECKING:
    from typing import Any as _Host  # a mixin: self is the Interpreter, with all its parts
else:
    _Host = object


class ObjectsMixin(_Host):
    def _super(self, frame, node=None) -> Any:
        if node is not None and node.args:
            return self._super_of(node, frame)
        fn = frame.func
        if fn is None or fn.cls is None:
            return UNKNOWN
        params = fn.node.params
        first = (list(params.posonly_params) + list(params.params))[:1]
        inst = frame.locals.get(first[0].name.value) if first else None
        if not isinstance(inst, (ModuleValue, ObjectValue)):
            return UNKNOWN
        return SuperRef(fn.cls, inst)

    def _super_of(self, node, frame) -> Any:
        """``super(Cls, self)``: the lookup starts after ``Cls`` in the instance's MRO (diffusers'
        ``super(Attention, self).__init__()`` skips Attention's own ``__init__``)."""
        if len(node.args) != 2 or any(a.keyword is not None or a.star for a in node.args):
            return UNKNOWN
        cls, inst = (self.eval(a.value, frame) for a in node.args)
        if not isinstance(cls, ClassValue) or not isinstance(inst, (ModuleValue, ObjectValue)) or inst.cls is None \
                or cls.info not in self.mro(inst.cls):
            return UNKNOWN
        return SuperRef(cls.info, inst)

    def super_attr(self, ref: "SuperRef", attr) -> Any:
        inst = ref.instance
        mro = self.mro(inst.cls) if inst.cls is not None else []
        after = mro[mro.index(ref.cls) + 1:] if ref.cls in mro else []
        for c in after:
            if attr in c.methods:
                return self.class_attr(c, attr, instance=inst)
            if attr in c.class_assigns:
                return self.eval(c.class_assigns[attr], Frame(src=c.source))
            if attr == "__init__" and isinstance(inst, ObjectValue) and _is_record(c):
                return _RecordInit(c, inst)
        return BoundMethod(ref, attr)

    # ------------------------------------------------------------------ attributes
    def getattr(self, obj, attr, node=None) -> Any:
        if obj is UNKNOWN:
            return UNKNOWN
        if isinstance(obj, Qual):
            return obj.attr(attr)
        if isinstance(obj, _FRAMEWORK_VALUES):
            for fw in self.frameworks:
                v = fw.getattr(self, obj, attr, node)
                if v is not NOT_MINE:
                    return v
            return UNKNOWN
        if isinstance(obj, ClassValue):
            if attr in ("__name__", "__qualname__"):  # "{}_{}".format(block.__name__, i) module names
                return obj.info.name
            return self.class_attr(obj.info, attr)
        if isinstance(obj, FunctionValue) and attr in ("__name__", "__qualname__") and obj.bound_self is None:
            return obj.node.name.value
        if isinstance(obj, SuperRef):
            return self.super_attr(obj, attr)
        if isinstance(obj, ObjectValue):
            if attr in obj.attrs:
                return obj.attrs[attr]
            if obj.cls is None:  # a namespace (argparse.Namespace(...)): only the attributes it was given
                return BoundMethod(obj, attr) if obj.mapping and attr in ("get", "clone") else UNKNOWN
            v = self.class_attr(obj.cls, attr, instance=obj)
            if v is UNKNOWN and obj.mapping and attr in ("get", "clone"):
                return BoundMethod(obj, attr)  # a yacs CfgNode subclass's inherited methods
            fw = self.value_framework(obj) if v is UNKNOWN else None
            if fw is not None:  # an instance of a framework's base class: what the base provides
                v = fw.getattr(self, obj, attr, node)
                return UNKNOWN if v is NOT_MINE else v
            return v
        if isinstance(obj, ModuleRef):
            v = self.lookup_global(attr, obj.src)
            if v is UNKNOWN:
                return self.import_from(self._module_name(obj.src), attr)
            return v
        if isinstance(obj, tuple) and is_record_type(type(obj)) and attr in type(obj)._fields:  # type: ignore[attr-defined]
            return getattr(obj, attr)  # path.s0 of a namedtuple instance
        if isinstance(obj, (list, dict, tuple, str, int, float)) and not isinstance(obj, bool):
            return BoundMethod(obj, attr)
        if isinstance(obj, D.Lin):
            return BoundMethod(obj, attr)
        if isinstance(obj, NDArray):
            v = ND.attribute(obj, attr)
            return BoundMethod(obj, attr) if v is NotImplemented else v
        if isinstance(obj, Partial) and attr in ("func", "args", "keywords"):
            return {"func": obj.func, "args": obj.args, "keywords": obj.kwargs}[attr]
        fw = self.value_framework(obj)
        if fw is not None:  # a framework's own value (a Keras layer or model)
            v = fw.getattr(self, obj, attr, node)
            return UNKNOWN if v is NOT_MINE else v
        return UNKNOWN

    def class_attr(self, info: ClassInfo, attr, instance=None) -> Any:
        for c in self.mro(info):
            if attr in c.methods:
                fn = c.methods[attr]
                deco = [dotted(d.decorator) for d in fn.decorators]
                if "staticmethod" in deco:
                    return FunctionValue(fn, c.source, cls=c)
                if "property" in deco and instance is not None:
                    return self.call_function(FunctionValue(fn, c.source, bound_self=instance, cls=c), [], {}, None)
                if "classmethod" in deco:
                    return FunctionValue(fn, c.source, bound_self=self.class_value(c), cls=c)
                return FunctionValue(fn, c.source, bound_self=instance, cls=c)
            if attr in c.class_assigns:
                return self.eval(c.class_assigns[attr], Frame(src=c.source))
        if instance is None or isinstance(instance, ObjectValue):
            # inherited from a framework class (an autograd Function's apply, also called on an
            # instance: `UniformQuantize().apply(x)`)
            for fw in self.frameworks:
                v = fw.class_attr(self, info, attr)
                if v is not NOT_MINE:
                    return v
        return UNKNOWN

    def mro(self, info: ClassInfo) -> List[ClassInfo]:
        out: List[ClassInfo] = []
        todo = [info]
        while todo:
            c = todo.pop(0)
            if c in out or len(out) > 20:
                continue
            out.append(c)
            for b in c.base_nodes:
                v = self.eval(b, Frame(src=c.source))
                if isinstance(v, ClassValue):
                    todo.append(v.info)
        return out

    def framework_base(self, info: ClassInfo) -> Optional[str]:
        """The framework class a user class derives from (torch's 'torch.nn.Module'...), else None."""
        for fw in self.frameworks:
            base = fw.class_base(self, info)
            if base is not None:
                return base
        return None

    def value_framework(self, v: Any) -> Any:
        """The registered framework whose own value ``v`` is (Framework.owns_value), else None."""
        for fw in self.frameworks:
            if fw.owns_value(v):
                return fw
        return None

    def framework_of(self, qualname: str) -> Any:
        """The registered framework owning a qualified name, else None."""
        for fw in self.frameworks:
            if fw.owns(qualname):
                return fw
        return None

    def setattr(self, obj, attr, value) -> None:
        setter = self._setter(obj, attr)
        if setter is not None:  # `self.count = n` on a property: Python calls its setter
            self.call_function(setter, [value], {}, None)
            return
        if isinstance(obj, ModuleValue):
            if obj.spec is not None and isinstance(obj.args, dict) and attr in obj.args:
                # a torch layer's subclass resetting what its layer's forward reads (diffusers'
                # causal conv: `self.padding = (0, 0, 0)` after padding by hand)
                obj.args = {**obj.args, attr: UNKNOWN if self.speculative else value}
            if self.speculative:
                # Which branch ran is unknown: the attribute is unknown, and so is the module's
                # layout when the value may be a layer or a weight, or replaces one (a plain
                # number or tensor set on one branch, `self.stage = stage`, leaves the layout alone)
                if value is UNKNOWN or isinstance(value, (ModuleValue, Param)) or attr in obj.children or \
                        attr in obj.params:
                    obj.uncertain = True
                obj.attrs[attr] = UNKNOWN
                obj.children.pop(attr, None)
                return
            obj.attrs[attr] = value
            if isinstance(value, (ModuleValue, Param)):
                obj.register(attr, value)
            elif attr in obj.children:
                obj.children.pop(attr)
        elif isinstance(obj, ObjectValue):
            obj.attrs[attr] = UNKNOWN if self.speculative else value
        elif isinstance(obj, Param) and attr == "requires_grad" and isinstance(value, bool):
            if self.speculative:
                return
            obj.requires_grad = value  # `self.fc.weight.requires_grad = False` (a frozen weight)
        # attributes of other objects are not modelled

    def _setter(self, obj, attr) -> Optional[FunctionValue]:
        """The setter of a property ``attr`` of ``obj``'s class (the first class of its MRO that
        defines ``attr`` decides), else None."""
        cls = obj.cls if isinstance(obj, (ModuleValue, ObjectValue)) else None
        if cls is None:
            return None
        for c in self.mro(cls):
            if attr in c.setters:
                return FunctionValue(c.setters[attr], c.source, bound_self=obj, cls=c)
            if attr in c.methods or attr in c.class_assigns:
                return None
        return None

    def instantiate(self, info: ClassInfo, args, kwargs, node) -> Any:
        for fw in self.frameworks:
            base = fw.class_base(self, info)
            if base is not None:
                v = fw.instantiate(self, info, base, args, kwargs, node)
                if v is not NOT_MINE:
                    return v
        return self.instantiate_object(info, args, kwargs, node)

    def instantiate_object(self, info: ClassInfo, args, kwargs, node) -> Any:
        """A plain class: a block config, a dataclass, a NamedTuple."""
        bases = []
        for c in self.mro(info):
            for b in c.base_nodes:
                v = self.eval(b, Frame(src=c.source))
                if isinstance(v, Qual):
                    bases.append(v.name)
        if any(b.startswith("enum.") or self.framework_of(b) is not None for b in bases):
            if not any(b.startswith("enum.") for b in bases) and \
                    any(fw.class_attr(self, info, "apply") not in (NOT_MINE, UNKNOWN) for fw in self.frameworks):
                # `UniformQuantize().apply(x, ...)`: an instance of a custom autograd Function,
                # used only for its class's apply
                return ObjectValue(info)
            return UNKNOWN
        for fw in self.frameworks:  # a class a library gives meaning to (a transformers config)
            if fw.instantiate_object is not None:
                v = fw.instantiate_object(self, info, args, kwargs, node)
                if v is not NOT_MINE:
                    return v
        # a subclass of a library's attribute dict (`class ConfigNode(yacs.config.CfgNode)`)
        obj = ObjectValue(info, mapping=any(b in ATTR_DICTS for b in bases))
        is_record = _is_record(info) or any(b in ("typing.NamedTuple", "collections.namedtuple") for b in bases)
        init = self.class_attr(info, "__init__", instance=obj)
        for c in self.mro(info):  # a @dataclass's generated __init__ overrides its bases' own
            if "__init__" in c.methods:
                break
            if _is_record(c):
                init, is_record = None, True
                break
        if isinstance(init, FunctionValue):
            self.call_function(init, args, kwargs, node)
        elif is_record:
            if not self.bind_fields(info, obj, args, kwargs, node):
                return UNKNOWN
        elif args or kwargs:
            return UNKNOWN
        return obj

    def bind_fields(self, info: ClassInfo, obj: ObjectValue, args, kwargs, node) -> bool:
        """The __init__ a @dataclass (or NamedTuple) generates: fields in order, with defaults."""
        fields = []
        for c in reversed(self.mro(info)):
            fields.extend(c.fields)
        args, kwargs = list(args), dict(kwargs)
        for name, default in fields:
            if args:
                obj.attrs[name] = args.pop(0)
            elif name in kwargs:
                obj.attrs[name] = kwargs.pop(name)
            elif default is not None:
                obj.attrs[name] = self.eval(default, Frame(src=info.source))
            else:
                return False
        if args or kwargs:
            return False
        post = self.class_attr(info, "__post_init__", instance=obj)
        if isinstance(post, FunctionValue):
            self.call_function(post, [], {}, node)
        return True


def _is_record(info: ClassInfo) -> bool:
    return any(d in ("dataclass", "dataclasses.dataclass") for d in info.decorators)


class _RecordInit:
    def __init__(self, cls, obj) -> None:
        self.cls, self.obj = cls, obj


class SuperRef:
    def __init__(self, cls, instance) -> None:
        self.cls = cls
        self.instance = instance


from .expressions import _FRAMEWORK_VALUES  # noqa: E402
from .frames import Frame
