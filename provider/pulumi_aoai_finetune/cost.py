"""Cost estimates: training (tokens x epochs x price) and hosting (per deployment-hour).

The prices live in a data file, ``prices.yaml`` next to this module, which states the date and
source of its figures. Prices change: a user file given with ``--prices FILE`` (the aoai-ft
commands) or the environment variable ``AOAI_FT_PRICES`` (also read by the provider at preview) is
merged over the packaged table, key by key, so it only needs the entries that differ. No network
call is ever made.

Used by
- ``TrainingFile`` at preview: :func:`log_training_estimate` logs the dataset statistics;
- ``FineTuningJob`` at preview: :func:`estimate_job`, the training cost of the declared run (its own
  ``n_epochs``, or the documented rule when auto, said as such), and beside it the cost of the run a
  replacement replaces;
- ``ModelDeployment`` at preview: :func:`log_hosting_estimate` logs the hourly hosting fee;
- ``aoai-ft review``: :func:`estimate_training` / :func:`estimate_hosting` per resource.

Every estimate says what it assumed (epochs, token counting, the price table's date); an unknown
model or sku gives ``usd=None`` with a note instead of a guess.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from .errors import ConfigurationError

PRICES_ENV = "AOAI_FT_PRICES"
DEFAULT_PRICES = Path(__file__).with_name("prices.yaml")
PROVISIONED_SKUS = ("provisionedmanaged", "globalprovisionedmanaged", "datazoneprovisionedmanaged")
DEFAULT_TRAINING_TYPE = "Standard"


# -- the price table ---------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceTable:
    as_of: str
    currency: str
    source: str
    training_per_1m_tokens: dict[str, float | None]
    training_type_multiplier: dict[str, float]
    hosting_per_hour: dict[str, float | None]
    provisioned_per_ptu_hour: float | None
    hours_per_month: float
    origin: tuple[str, ...] = field(default_factory=tuple)
    inference_per_1m_tokens: dict[str, dict[str, float | None]] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], origin: tuple[str, ...] = ()) -> "PriceTable":
        where = " + ".join(origin) or "price table"
        try:
            return cls(
                as_of=str(data.get("as_of") or "unknown date"),
                currency=str(data.get("currency") or "USD"),
                source=" ".join(str(data.get("source") or "").split()),
                training_per_1m_tokens={str(k): _price(v, f"{where}: training_per_1m_tokens.{k}")
                                        for k, v in (data.get("training_per_1m_tokens") or {}).items()},
                training_type_multiplier={str(k): float(v)
                                          for k, v in (data.get("training_type_multiplier") or {}).items()},
                hosting_per_hour={str(k): _price(v, f"{where}: hosting_per_hour.{k}")
                                  for k, v in (data.get("hosting_per_hour") or {}).items()},
                provisioned_per_ptu_hour=_price(data.get("provisioned_per_ptu_hour"),
                                                f"{where}: provisioned_per_ptu_hour"),
                hours_per_month=float(data.get("hours_per_month") or 730),
                origin=origin,
                inference_per_1m_tokens={
                    str(k): {str(kind): _price(price, f"{where}: inference_per_1m_tokens.{k}.{kind}")
                             for kind, price in (v or {}).items()}
                    for k, v in (data.get("inference_per_1m_tokens") or {}).items()},
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigurationError(f"{where}: not a valid price table ({exc}); see {DEFAULT_PRICES}") from None

    def training_price(self, model: str | None) -> tuple[float | None, str | None]:
        """(USD per 1M trained tokens, the table key used) for a base or fine-tuned model."""
        if not model:
            return None, None
        from .data import base_model

        candidates = [model.strip().lower(), base_model(model)]
        keys = sorted(self.training_per_1m_tokens, key=len, reverse=True)
        for name in candidates:
            for key in keys:
                k = key.lower()
                if name == k or name.startswith(k + "-") or name.startswith(k + "."):
                    return self.training_per_1m_tokens[key], key
        return None, None

    def multiplier(self, training_type: str | None) -> float:
        if not training_type:
            return 1.0
        for key, value in self.training_type_multiplier.items():
            if key.lower() == training_type.lower():
                return value
        return 1.0

    def inference_price(self, model: str | None) -> tuple[float | None, float | None, str | None]:
        """(USD per 1M input tokens, per 1M output tokens, the table key used) of calling a deployment
        of ``model``: a fine-tuned model (``<base>.ft-...``) at the fine-tuned rates of its base."""
        if not model:
            return None, None, None
        from .data import base_model

        fine_tuned = ".ft-" in model
        name = base_model(model)
        for key in sorted(self.inference_per_1m_tokens, key=len, reverse=True):
            k = key.lower()
            if name == k or name.startswith(k + "-") or name.startswith(k + "."):
                row = self.inference_per_1m_tokens[key]
                prefix = "fine_tuned_" if fine_tuned else ""
                return row.get(prefix + "input"), row.get(prefix + "output"), key
        return None, None, None

    def hosting_price(self, sku_name: str | None) -> tuple[float | None, str | None]:
        name = (sku_name or "Standard").lower()
        for key, value in self.hosting_per_hour.items():
            if key.lower() == name:
                return value, key
        return None, None

    def describe(self) -> str:
        return f"prices as of {self.as_of} ({' + '.join(Path(o).name for o in self.origin) or 'built in'})"


def _price(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{where} is {value!r}; use a number or null")
    number = float(value)
    if number < 0:
        raise ValueError(f"{where} is negative")
    return number


def _merge(base: dict, over: Mapping) -> dict:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"price table {path}: cannot read it ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"price table {path}: not valid YAML ({exc})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigurationError(f"price table {path}: expected a mapping at the top level")
    return data


def load_prices(path: str | os.PathLike[str] | None = None, *,
                environ: Mapping[str, str] | None = None) -> PriceTable:
    """The packaged table, with ``path`` (or else ``$AOAI_FT_PRICES``) merged over it."""
    environ = os.environ if environ is None else environ
    data = _read_yaml(DEFAULT_PRICES)
    origin = [str(DEFAULT_PRICES)]
    user = path if path is not None else (environ.get(PRICES_ENV) or None)
    if user:
        user_path = Path(user).expanduser()
        data = _merge(data, _read_yaml(user_path))
        origin.append(str(user_path))
    return PriceTable.from_mapping(data, tuple(origin))


# -- estimates ---------------------------------------------------------------------------------
def usd(value: float | None, currency: str = "USD") -> str:
    if value is None:
        return "not priced"
    symbol = "$" if currency == "USD" else f"{currency} "
    if value and abs(value) < 0.01:
        return f"<{symbol}0.01"
    return f"{symbol}{value:,.2f}"


@dataclass
class TrainingEstimate:
    model: str | None
    tokens: int | None
    """Tokens in the training file (an estimate unless ``token_counting`` says exact)."""
    epochs: int | None
    epochs_note: str
    trained_tokens: int | None
    usd_per_1m: float | None
    usd: float | None
    price_key: str | None
    training_type: str
    currency: str
    prices: str
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One line for a log or a table cell."""
        if self.trained_tokens is None:
            head = f"training {self.model or 'unknown model'}: tokens unknown"
        else:
            head = (f"training {self.model}: {self.tokens:,} tokens x {self.epochs} epoch(s) = "
                    f"{self.trained_tokens:,} trained tokens")
        if self.usd is not None:
            head += f" ~ {usd(self.usd, self.currency)} at {usd(self.usd_per_1m, self.currency)}/1M"
            if self.training_type != DEFAULT_TRAINING_TYPE:
                head += f" ({self.training_type})"
        else:
            head += " (not priced)"
        extra = [n for n in [self.epochs_note, *self.notes] if n]
        if extra:
            head += "; " + "; ".join(extra)
        return f"{head}; {self.prices}"

    def short(self) -> str:
        """The cost and its basis, without the notes: for a run beside another."""
        basis = (f"{self.tokens:,} tokens x {self.epochs} epoch(s)" if self.trained_tokens is not None
                 else "tokens unknown")
        return f"{usd(self.usd, self.currency) if self.usd is not None else 'not priced'} ({basis})"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("model", "tokens", "epochs", "epochs_note", "trained_tokens",
                                              "usd_per_1m", "usd", "price_key", "training_type", "currency",
                                              "prices", "notes")}


def estimate_training(model: str | None, tokens: int | None, epochs: int | None = None, *,
                      n_examples: int | None = None, training_type: str | None = None,
                      prices: PriceTable | None = None, notes: list[str] | None = None) -> TrainingEstimate:
    """Training cost = tokens in the training file x epochs x price per token.

    ``epochs`` None (or "auto", -1) means the service decides: the number follows OpenAI's rule
    from ``n_examples`` when known, else 3, and the estimate says it was assumed.
    """
    from .data import default_n_epochs

    prices = prices or load_prices()
    notes = list(notes or [])
    if isinstance(epochs, float) and epochs.is_integer():
        epochs = int(epochs)
    if isinstance(epochs, int) and not isinstance(epochs, bool) and epochs >= 1:
        epochs_note = ""
    else:
        if n_examples:
            epochs = default_n_epochs(n_examples)
            epochs_note = (f"n_epochs auto: the service decides; {epochs} assumed for {n_examples:,} examples by "
                           "the documented rule (OpenAI's; Azure publishes none)")
        else:
            epochs = 3
            epochs_note = "n_epochs auto: the service decides; 3 assumed (the number of examples is unknown)"
    ttype = training_type or DEFAULT_TRAINING_TYPE
    per_1m, key = prices.training_price(model)
    if model and key is None:
        notes.append(f"no training price for {model} in the price table")
    elif model and per_1m is None:
        notes.append(f"the price table has no figure for {key} (null)")
    trained = tokens * epochs if tokens is not None else None
    cost = None
    if per_1m is not None and trained is not None:
        per_1m = per_1m * prices.multiplier(ttype)
        cost = trained / 1e6 * per_1m
    return TrainingEstimate(model=model, tokens=tokens, epochs=epochs, epochs_note=epochs_note,
                            trained_tokens=trained, usd_per_1m=per_1m, usd=cost, price_key=key,
                            training_type=ttype, currency=prices.currency, prices=prices.describe(), notes=notes)


def estimate_training_from_stats(stats: Any, model: str | None, epochs: int | None = None, *,
                                 prices: PriceTable | None = None,
                                 training_type: str | None = None) -> TrainingEstimate:
    """The same from the validator's :class:`~pulumi_aoai_finetune.data.DatasetStats`."""
    notes = []
    counting = getattr(stats, "token_counting", "")
    if counting and not getattr(stats, "token_counting_exact", False):
        notes.append("token count estimated by the validator's heuristic, not exact")
    return estimate_training(model, stats.tokens.total, epochs, n_examples=stats.examples,
                             training_type=training_type, prices=prices, notes=notes)


@dataclass
class HostingEstimate:
    sku: str
    capacity: int | None
    usd_per_hour: float | None
    usd_per_month: float | None
    currency: str
    prices: str
    note: str = ""

    def line(self) -> str:
        cap = f", capacity {self.capacity}" if self.capacity is not None else ""
        if self.usd_per_hour is None:
            text = f"hosting {self.sku}{cap}: not priced"
        else:
            text = (f"hosting {self.sku}{cap}: {usd(self.usd_per_hour, self.currency)}/hour "
                    f"(~{usd(self.usd_per_month, self.currency)}/month)")
        if self.note:
            text += f"; {self.note}"
        return f"{text}; {self.prices}"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("sku", "capacity", "usd_per_hour", "usd_per_month", "currency",
                                              "prices", "note")}


def estimate_hosting(sku: Mapping[str, Any] | None, prices: PriceTable | None = None) -> HostingEstimate:
    """The hourly fee of one deployment with this sku (``{name, capacity}``)."""
    prices = prices or load_prices()
    sku = dict(sku or {})
    name = str(sku.get("name") or "Standard")
    capacity = sku.get("capacity")
    if isinstance(capacity, float) and capacity.is_integer():
        capacity = int(capacity)
    if not isinstance(capacity, int) or isinstance(capacity, bool):
        capacity = None
    note = ""
    if name.lower() in PROVISIONED_SKUS:
        per_ptu = prices.provisioned_per_ptu_hour
        if per_ptu is None or capacity is None:
            per_hour = None
            note = "provisioned: charged per PTU-hour at your agreed rate (set provisioned_per_ptu_hour)"
        else:
            per_hour = per_ptu * capacity
            note = f"{capacity} PTU x {usd(per_ptu, prices.currency)}"
    else:
        per_hour, key = prices.hosting_price(name)
        if key is None:
            note = f"no hosting price for sku {name} in the price table"
        elif per_hour == 0:
            note = "no hourly fee (tokens only)"
        else:
            note = "per deployment, whatever the capacity; token usage extra"
    per_month = per_hour * prices.hours_per_month if per_hour is not None else None
    return HostingEstimate(sku=name, capacity=capacity, usd_per_hour=per_hour, usd_per_month=per_month,
                           currency=prices.currency, prices=prices.describe(), note=note)


@dataclass
class InferenceEstimate:
    """What calling a deployment costs in tokens: an evaluation run (and its judge)."""

    model: str | None
    prompt_tokens: int
    completion_tokens: int
    usd: float | None
    currency: str
    prices: str
    note: str = ""

    def line(self) -> str:
        text = (f"{self.prompt_tokens:,} input + {self.completion_tokens:,} output tokens on "
                f"{self.model or 'an unknown model'}: {usd(self.usd, self.currency)}")
        if self.note:
            text += f" ({self.note})"
        return f"{text}; {self.prices}"

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("model", "prompt_tokens", "completion_tokens", "usd", "currency",
                                              "prices", "note")}


def estimate_inference(model: str | None, prompt_tokens: int, completion_tokens: int, *,
                       prices: PriceTable | None = None) -> InferenceEstimate:
    """Token cost of chat completions on a deployment of ``model`` (no hourly fee: see hosting)."""
    prices = prices or load_prices()
    per_in, per_out, key = prices.inference_price(model)
    note = ""
    if key is None:
        note = f"no inference price for {model} in the price table" if model else "model not known yet"
        total = None
    elif per_in is None or per_out is None:
        note = f"the price table has no figure for {key} (null)"
        total = None
    else:
        total = prompt_tokens / 1e6 * per_in + completion_tokens / 1e6 * per_out
    return InferenceEstimate(model=model, prompt_tokens=int(prompt_tokens), completion_tokens=int(completion_tokens),
                             usd=total, currency=prices.currency, prices=prices.describe(), note=note)


# -- preview log lines -------------------------------------------------------------------------
def training_log_lines(data: Any, *, model: str | None, path: str) -> list[str]:
    """The line TrainingFile logs at preview: the data's statistics. ``data``: the validator's report,
    or its summary (:func:`.local_data.summary`, what the check cache keeps). The cost of training on
    it is the job's to state (:func:`estimate_job`): the file knows no epochs."""
    from .local_data import summary

    stats = data if isinstance(data, Mapping) else summary(data)
    if stats is None:
        return []
    name = os.path.basename(path)
    exact = "exact count" if stats.get("token_counting_exact") else "estimated"
    return [f"{name}: {stats['examples']:,} examples, {stats['tokens']:,} tokens ({exact}; per example median "
            f"{stats.get('tokens_median') or 0:,}, max {stats.get('tokens_max') or 0:,})"]


def estimate_job(inputs: Mapping[str, Any], prices: PriceTable | None = None) -> TrainingEstimate:
    """The training cost of the run a FineTuningJob declares: the tokens of its training data (its
    ``training_file_stats``, a TrainingFile's ``content_stats``) x its own ``n_epochs`` (or, when auto,
    the documented rule, said as such) x the price of its base model and training type. The preview
    of the job and ``aoai-ft review`` state it alike."""
    from .controller import is_unknown

    stats = inputs.get("training_file_stats")
    stats = stats if isinstance(stats, Mapping) and not is_unknown(stats) else None
    model = inputs.get("base_model")
    model = model if isinstance(model, str) and not is_unknown(model) else None
    hp = inputs.get("hyperparameters")
    epochs = hp.get("n_epochs") if isinstance(hp, Mapping) else None
    if isinstance(epochs, float) and epochs.is_integer():
        epochs = int(epochs)
    if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
        epochs = None  # auto, -1 or not set: the service decides
    ttype = inputs.get("training_type")
    ttype = ttype if isinstance(ttype, str) and not is_unknown(ttype) else None
    method = inputs.get("method")
    method_type = method.get("type") if isinstance(method, Mapping) else method
    notes: list[str] = []
    if method_type == "reinforcement":
        est = estimate_training(model, None, epochs, training_type=ttype, prices=prices, notes=[
            "reinforcement fine-tuning is billed by training time (and grader tokens), not by tokens"])
        est.usd = est.usd_per_1m = None
        return est
    if stats is None:
        notes.append("the training data was not read at preview (a file id, validate: false, or a URL this "
                     "machine cannot read): tokens unknown")
        return estimate_training(model, None, epochs, training_type=ttype, prices=prices, notes=notes)
    if not stats.get("token_counting_exact"):
        notes.append("token count estimated by the validator's heuristic, not exact")
    return estimate_training(model, int(stats["tokens"]), epochs, n_examples=int(stats.get("examples") or 0) or None,
                             training_type=ttype, prices=prices, notes=notes)


def log_training_estimate(data: Any, *, model: str | None, path: str) -> None:
    """Log the statistics and training estimate of a validated file; never fails the preview."""
    try:
        import pulumi

        for line in training_log_lines(data, model=model, path=path):
            pulumi.log.info(line)
    except Exception as exc:  # an estimate must never break a preview
        try:
            import pulumi

            pulumi.log.info(f"cost estimate unavailable: {exc}")
        except Exception:  # pragma: no cover
            pass


def log_hosting_estimate(name: str, sku: Mapping[str, Any] | None) -> None:
    """Log the hourly hosting fee of a deployment; never fails the preview."""
    try:
        import pulumi

        pulumi.log.info(f"deployment {name}: estimated {estimate_hosting(sku).line()}")
    except Exception as exc:
        try:
            import pulumi

            pulumi.log.info(f"hosting estimate unavailable: {exc}")
        except Exception:  # pragma: no cover
            pass
