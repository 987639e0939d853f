"""The ``DataFrame.toloka`` accessor: aggregate a frame's tasks or responses in one call.

Importing :mod:`pandas_toloka` registers it. The accessor keeps no state
(pandas builds a new one on every attribute access); each method checks the
columns it needs and hands the work to a module with one concern:
:mod:`._frame.remote`, :mod:`._frame.local` or :mod:`.plotting`.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import plotting
from ._config import MAX_WORKERS
from ._frame import areas, local, remote
from ._frame.agreement import agreement_by_pool
from ._frame.captions import provenance_summary
from ._frame.from_pool import Connection
from ._frame.inputs import frame_output_spec
from ._frame.methods import LocalType, area_type, document_methods
from ._frame.ranking import is_pairwise, rank_by_pool, rank_for_aggregate
from ._frame.remote import MissingAggregatesWarning
from ._frame.report import report_with_truth
from ._frame.strategies import Strategy
from ._protocol import AggregationTypeName
from ._read.args import renamed_arguments
from ._read.connect import client_scope
from ._read.progress import progress_enabled
from .agreement import Level
from .client import AggregationType, Client
from .errors import InvalidArgumentError
from .plotting import WorkerSelection
from .schema import DtypeBackend

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from .aggregation import AggregationModel

__all__ = ["TolokaAccessor", "MissingAggregatesWarning"]

logger = logging.getLogger(__name__)


@pd.api.extensions.register_dataframe_accessor("toloka")
class TolokaAccessor:
    """Toloka aggregation for a DataFrame of tasks or of raw responses.

    A frame of tasks (``task_id``, ``pool_id``, inputs...) is aggregated on
    the server with :meth:`aggregate`; a frame of responses (from
    :func:`read_responses`, or any ``task``/``worker``/``label`` frame) is
    aggregated on this machine with :meth:`aggregate_locally`, with the same
    algorithms and output schema as the server.

    Examples
    --------
    >>> import pandas_toloka as ptk  # registers the accessor
    >>> out = tasks.toloka.aggregate(type="DAWID_SKENE", client=client)  # doctest: +SKIP
    """

    def __init__(self, pandas_obj: pd.DataFrame) -> None:
        self._obj = pandas_obj

    def __repr__(self) -> str:
        frame = self._obj
        rows, cols = frame.shape
        names = [str(c) for c in frame.columns]
        shown = ", ".join(names[:8]) + (f", … ({cols - 8} more)" if cols > 8 else "")
        return (
            f"<df.toloka accessor: {rows:,} rows × {cols} columns [{shown}]\n"
            f" {provenance_summary(frame)}>"
        )

    # ------------------------------------------------------------------ server side

    @renamed_arguments(max_workers="max_concurrency")
    def aggregate(
        self,
        type: AggregationTypeName | AggregationType = "DAWID_SKENE",
        *,
        fields: str | Sequence[str] | None = None,
        answer_weight_skill_id: str | int | None = None,
        pool_id: str | int | None = None,
        task: Hashable = "task_id",
        pool_column: Hashable = "pool_id",
        strategy: Strategy = "auto",
        max_concurrency: int = MAX_WORKERS,
        client: Client | None = None,
        token: str | None = None,
        environment: str | None = None,
        url: str | None = None,
        progress_bar: bool | None = None,
        dtype_backend: DtypeBackend = "pyarrow",
    ) -> pd.DataFrame:
        """Aggregate the frame's tasks on the server and join the answers to each row.

        Parameters
        ----------
        type : {'DAWID_SKENE', 'WEIGHTED_DYNAMIC_OVERLAP'}, default 'DAWID_SKENE'
            The server's algorithm.
        fields : str or list of str, optional
            Output fields to aggregate, as for :func:`read_aggregated_solutions`
            (default: the pool's only aggregatable field).
        answer_weight_skill_id : str, optional
            The skill weighing answers; required for WEIGHTED_DYNAMIC_OVERLAP.
        pool_id : str, optional
            The pool of every row; default: the ``pool_column`` column.
        task, pool_column : str, default 'task_id', 'pool_id'
            Columns with the task and pool ids.
        strategy : {'auto', 'by_task', 'by_pool'}, default 'auto'
            ``'by_task'`` aggregates each distinct task with one request
            (``max_concurrency`` at a time); ``'by_pool'`` runs one aggregation
            operation per pool and keeps the listed tasks. ``'auto'`` chooses per
            pool: by task up to 1,000 distinct tasks, by pool above.
        max_concurrency : int, default 16
            Concurrent per-task requests. Formerly ``max_workers=`` (deprecated,
            still accepted with a ``FutureWarning``).
        client, token, environment, url
            As for :func:`read_aggregated_solutions`.
        progress_bar : bool, optional
            Progress over the tasks (by task) or the operation (by pool).
        dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
            Back-end data type of the added columns.

        Returns
        -------
        DataFrame
            A new frame with the input's index, row order and columns, plus
            ``confidence`` and one column per field typed as
            :func:`read_aggregated_solutions` types it. Duplicate task ids are
            aggregated once and the answer is repeated on each of their rows.

        Warns
        -----
        MissingAggregatesWarning
            When some tasks got no answer (no accepted response, not in the
            pool, or no id); their rows are kept with missing values.

        Raises
        ------
        MissingColumnsError
            If the task column, or the pool column without ``pool_id=``, is absent.
        InvalidArgumentError
            If the frame already has a column the answers would overwrite, or an
            argument is invalid.
        """
        with client_scope(client, token=token, environment=environment, url=url) as resolved:
            return remote.aggregate_frame(
                self._obj,
                client=resolved,
                type=type,
                fields=fields,
                answer_weight_skill_id=answer_weight_skill_id,
                task=task,
                pool_column=pool_column,
                pool_id=pool_id,
                strategy=strategy,
                max_workers=max_concurrency,
                progress=progress_enabled(progress_bar),
                dtype_backend=dtype_backend,
            )

    # ------------------------------------------------------------------ local

    @renamed_arguments(skill_id="answer_weight_skill_id")
    @document_methods
    def aggregate_locally(
        self,
        type: LocalType = "DAWID_SKENE",
        *,
        fields: str | Sequence[str] | None = None,
        skills: pd.DataFrame | pd.Series | None = None,
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        answer_weight_skill_id: str | int | None = None,
        n_iter: int | None = None,
        tol: float | None = None,
        dtype_backend: DtypeBackend = "pyarrow",
        golden: str | pd.DataFrame | Mapping[Any, Any] | pd.Series | None = None,
        method_kwargs: Mapping[str, Any] | None = None,
        inputs: bool | str | Sequence[str] | None = None,
        client: Client | None = None,
        token: str | None = None,
        environment: str | None = None,
        url: str | None = None,
    ) -> pd.DataFrame:
        """Aggregate raw responses on this machine, exactly as the server would.

        Parameters
        ----------
        type : str, default 'DAWID_SKENE'
            Any method of the registry: %(methods)s. The server runs the first two
            too; the others are local-only
            (:data:`pandas_toloka.aggregation.LOCAL_METHODS`, besides majority
            vote). The methods are described in ``docs/algorithms.md``. A
            pairwise method ('BRADLEY_TERRY', ...) ranks the items of a
            side-by-side pool as :meth:`rank` does: the winner column is
            ``fields`` (default ``"winner"``), ``left``/``right`` and the
            method's options come in ``method_kwargs``, and the result is the
            ranking (``docs/side-by-side.md``).
            For an area-selection (JSON) field, 'BOXES' and the
            'SEGMENTATION_*' methods (``docs/areas.md``): the result then has
            ``pool_id``, ``task_id`` and the field as a nested Arrow column
            (boxes or a mask per task), no ``confidence``; the segmentation
            methods rasterise the shapes at ``method_kwargs={"width": ...,
            "height": ...}`` pixels.
        fields : str or list of str, optional
            The answer column(s) (the label column of a crowd-kit style frame).
            Default: the only aggregatable field of the output spec, or the only
            column that is not a task, worker or metadata column.
        skills : DataFrame or Series, optional
            For WEIGHTED_DYNAMIC_OVERLAP: ``worker_id`` and ``value`` (0..100)
            columns (optionally ``skill_id``), or values indexed by worker.
            Omitted, with ``client=`` (or ``token=``/``url=``), the values of
            ``answer_weight_skill_id`` are read with :func:`read_user_skills`
            (their ``exact_value``, as the server weighs answers).
        task, worker : str, default 'task_id', 'worker_id'
            Column names, e.g. ``task="task", worker="worker"`` for crowd-kit frames.
        pool_id : str, optional
            Aggregate only this pool of a ``pool_id`` column, or name the pool
            of a frame without one. Several pools are aggregated separately.
        output_spec : dict, optional
            Types of the fields; default ``df.attrs["toloka"]["output_spec"]``
            (set by :func:`read_responses`), else inferred from the dtypes.
        status : str, list or None, default 'ACCEPTED'
            Rows kept when the frame has a ``status`` column; None keeps all.
        answer_weight_skill_id : str, optional
            For WEIGHTED_DYNAMIC_OVERLAP: the skill weighing answers, when
            ``skills`` holds several (as :meth:`aggregate` takes it). Formerly
            ``skill_id=`` (deprecated, still accepted with a ``FutureWarning``).
        n_iter, tol : optional
            Iterations and tolerance of the iterative methods; default: the
            method's own (100 and 1e-5 for Dawid–Skene; MACE, zero-based skill
            and KOS take ``n_iter`` only).
        dtype_backend : {'pyarrow', 'numpy_nullable'}, default 'pyarrow'
        golden : "pool", DataFrame, mapping or Series, optional
            The control tasks' known labels, for 'DAWID_SKENE',
            'ONE_COIN_DAWID_SKENE', 'GLAD' and 'MACE': those tasks keep their
            known label through EM, so workers are also judged on them.
            ``"pool"`` takes the pool's control tasks: from the frame's
            ``golden.<field>`` columns when it has them (a results export, no
            request), else read with :func:`read_tasks` through ``client=`` (or
            ``token=``/``url=``). A frame of tasks (:func:`read_tasks`, or any
            frame with ``task_id`` and ``golden.<field>``) gives its known
            solutions; a mapping or Series maps task id -> label. A task with
            several known solutions is anchored on the one of the largest
            ``correctness_weight`` when it is strictly the largest, else on
            none (a ``TolokaWarning`` counts those; docs/local-aggregation.md).
        method_kwargs : mapping, optional
            The method's own options, passed on to its function in
            :mod:`pandas_toloka.aggregation`, e.g. ``{"n_restarts": 10}`` for
            'MACE' or ``{"seed": 1}`` (:func:`~pandas_toloka.aggregation.mace`).
            An option the method does not take is an ``InvalidArgumentError``,
            raised before any work.
        inputs : bool, str or list of str, optional
            Add what was labeled, as :func:`read_aggregated_solutions` does:
            True (or ``"all"``) for every input field, or the names of some.
            Each task's values are taken from the frame's own input columns
            (``read_responses(inputs=...)`` and :func:`read_assignments_tsv`
            put them on every response, named as the field or
            ``input_values.<name>``, and record the input spec in ``attrs``),
            one value per task: a task whose rows hold different values is an
            ``InvalidArgumentError`` naming it. Fields the frame lacks are read
            with :func:`read_tasks` through ``client=`` (or ``token=``/``url=``),
            sharing the read with ``golden="pool"``. A name the input spec lacks,
            or one with no column and no connection, is an error raised before
            any work. Label and area methods (a pairwise ranking has a row per
            item, not per task).
        client, token, environment, url : optional
            Where ``golden="pool"``, skills without ``skills=`` and ``inputs=``
            the frame lacks are read from, as for :func:`read_tasks`; nothing is
            requested otherwise.

        Returns
        -------
        DataFrame
            The schema of :func:`read_aggregated_solutions`: ``pool_id``,
            ``task_id``, ``confidence``, one typed column per field, sorted by
            pool and task id; with ``golden=``, a bool column ``golden``
            marks the golden tasks; with ``inputs=``, one column per input
            field last, typed by the input spec and named as
            :func:`read_aggregated_solutions` names them (the field, or
            ``input_values.<name>`` when taken), and ``attrs["toloka"]``
            records their ``input_spec``. On a pool of the bundled server it
            equals the server's result (``inputs=`` included).

        Notes
        -----
        Rows with a missing answer are skipped, as the server skips them.
        ``Y`` (WEIGHTED_DYNAMIC_OVERLAP) and the label space (DAWID_SKENE) come
        from the output spec's ``allowed_values`` (or BOOLEAN / bounded
        INTEGER), or the categories of a categorical column; failing those,
        ``Y`` is the number of distinct answers observed in the pool.
        """
        connection = Connection(client, token, environment, url)
        if inputs is not None and inputs is not False and is_pairwise(type):
            raise InvalidArgumentError(
                f"inputs= adds input columns to one row per task; type={type!r} ranks items "
                "(a row per item): join read_tasks(pool_id) on the item ids instead."
            )
        if area_type(type) is not None:
            if skills is not None or answer_weight_skill_id is not None:
                raise InvalidArgumentError(
                    f"type={type!r} takes no skills= or answer_weight_skill_id=."
                )
            prepared = None
            if inputs is not None and inputs is not False:
                _, column = areas.area_column(
                    self._obj,
                    fields,
                    kind=str(area_type(type)),
                    output_spec=frame_output_spec(self._obj, output_spec),
                    task=task,
                    worker=worker,
                )
                prepared = local.inputs_for(
                    self._obj,
                    inputs,
                    task=task,
                    worker=worker,
                    columns=[column],
                    pool_id=pool_id,
                    connection=connection,
                )
            out = areas.aggregate_areas(
                self._obj,
                kind=str(area_type(type)),
                fields=fields,
                task=task,
                worker=worker,
                pool_id=pool_id,
                output_spec=output_spec,
                status=status,
                n_iter=n_iter,
                tol=tol,
                dtype_backend=dtype_backend,
                golden=golden,
                method_kwargs=method_kwargs,
            )
            return local.attach_inputs(out, prepared, dtype_backend=dtype_backend)
        if is_pairwise(type):
            return rank_for_aggregate(
                self._obj,
                type=str(getattr(type, "value", type)),
                fields=fields,
                worker=worker,
                pool_id=pool_id,
                status=status,
                n_iter=n_iter,
                tol=tol,
                method_kwargs=method_kwargs,
            )
        return local.aggregate_local(
            self._obj,
            type=type,
            fields=fields,
            skills=skills,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            skill_id=answer_weight_skill_id,
            n_iter=n_iter,
            tol=tol,
            dtype_backend=dtype_backend,
            golden=golden,
            method_kwargs=method_kwargs,
            connection=connection,
            inputs=inputs,
        )

    def fit_locally(
        self,
        type: LocalType = "DAWID_SKENE",
        *,
        fields: str | Sequence[str] | None = None,
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        n_iter: int | None = None,
        tol: float | None = None,
        golden: str | pd.DataFrame | Mapping[Any, Any] | pd.Series | None = None,
        method_kwargs: Mapping[str, Any] | None = None,
        client: Client | None = None,
        token: str | None = None,
        environment: str | None = None,
        url: str | None = None,
    ) -> dict[str | None, AggregationModel]:
        """Fit a method pool by pool and return the fitted models.

        The models :meth:`aggregate_locally` fits (same rows, label space and
        options), so that everything a method estimates is at hand from one
        fit: ``models[pool].to_frame()`` (the answers, in the plain frame of
        :mod:`pandas_toloka.aggregation`), ``.worker_quality()`` (e.g. GLAD's
        ``alpha``, MACE's ``competence``), ``.posterior_frame()``.

        Parameters
        ----------
        type : str, default 'DAWID_SKENE'
            A method with a model: any of :meth:`aggregate_locally`'s but
            'WEIGHTED_DYNAMIC_OVERLAP'.
        fields, task, worker, pool_id, output_spec, status, n_iter, tol, golden, method_kwargs
            As for :meth:`aggregate_locally` (one field); ``golden="pool"``
            included.
        client, token, environment, url : optional
            Where ``golden="pool"`` reads the control tasks from, as for
            :meth:`aggregate_locally`.

        Returns
        -------
        dict of str to AggregationModel
            One :class:`~pandas_toloka.aggregation.AggregationModel` per pool,
            keyed by pool id in sorted order (the key is None for a frame
            without a ``pool_id`` column nor a pool named in ``pool_id=`` or
            its attrs). Dawid–Skene's are
            :class:`~pandas_toloka.aggregation.DawidSkeneModel`.

        Raises
        ------
        InvalidArgumentError
            For a method without a model, or any argument
            :meth:`aggregate_locally` refuses; before any fit.

        Examples
        --------
        >>> models = df.toloka.fit_locally("GLAD")  # doctest: +SKIP
        >>> models["36502086"].worker_quality()  # doctest: +SKIP
        """
        models, _, _, _ = local.fit_local(
            self._obj,
            type=type,
            fields=fields,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            n_iter=n_iter,
            tol=tol,
            golden=golden,
            method_kwargs=method_kwargs,
            connection=Connection(client, token, environment, url),
        )
        return models

    def worker_quality(
        self,
        field: str | None = None,
        *,
        type: LocalType = "DAWID_SKENE",
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        confusion: bool = False,
        n_iter: int | None = None,
        tol: float | None = None,
        golden: str | pd.DataFrame | Mapping[Any, Any] | pd.Series | None = None,
        method_kwargs: Mapping[str, Any] | None = None,
        client: Client | None = None,
        token: str | None = None,
        environment: str | None = None,
        url: str | None = None,
    ) -> pd.DataFrame:
        """Estimate each worker's quality, pool by pool (Dawid–Skene by default).

        Parameters
        ----------
        field : str, optional
            The answer column, as ``fields`` of :meth:`aggregate_locally`.
        type : str, default 'DAWID_SKENE'
            The method whose per-worker estimates are returned: any of
            :meth:`fit_locally`'s.
        task, worker, pool_id, output_spec, status, n_iter, tol, method_kwargs
            As for :meth:`aggregate_locally`.
        confusion : bool, default False
            Return the confusion matrices instead, one row per (worker, true
            label, observed label) with a ``probability`` (Dawid–Skene only).
        golden : "pool", DataFrame, mapping or Series, optional
            The control tasks' known labels, as for :meth:`aggregate_locally`
            (``"pool"`` reads the pool's): the model is anchored on them and
            each worker's observed accuracy on them is added. A response to a
            task with several known solutions scores the ``correctness_weight``
            of the one it equals (0 when none).
        client, token, environment, url : optional
            Where ``golden="pool"`` reads the control tasks from.

        Returns
        -------
        DataFrame
            One row per worker of each pool, sorted by pool and worker: a
            ``pool_id`` column when the frame has one (each pool is fitted on
            its own, as :meth:`aggregate_locally` does, so two pools sharing
            task ids never merge), the worker column, ``n_responses`` and the
            method's estimates (Dawid–Skene: ``accuracy``, the probability of
            a right answer on a random task under the fitted model); with
            ``golden=`` also ``n_golden`` (their responses to golden tasks) and
            ``golden_accuracy`` (the share of those that were right, weighted
            by ``correctness_weight``).

        See Also
        --------
        fit_locally : The fitted models themselves.
        pandas_toloka.aggregation.aggregation_report : accuracy and calibration
            of ``confidence`` on tasks with known labels.
        """
        return local.worker_quality(
            self._obj,
            type=type,
            field=field,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            confusion=confusion,
            n_iter=n_iter,
            tol=tol,
            golden=golden,
            method_kwargs=method_kwargs,
            connection=Connection(client, token, environment, url),
        )

    def agreement(
        self,
        field: str | None = None,
        *,
        task: Hashable = "task_id",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        output_spec: Mapping[str, Any] | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        level: Level = "nominal",
        dtype_backend: DtypeBackend = "pyarrow",
    ) -> pd.DataFrame:
        """How much the workers of each pool agree: one row of figures per pool.

        Parameters
        ----------
        field : str, optional
            The answer column, as ``fields`` of :meth:`aggregate_locally`.
        task, worker, pool_id, output_spec, status, dtype_backend
            As for :meth:`aggregate_locally`: the responses measured are those
            local aggregation would aggregate (the pool's ACCEPTED responses with
            an answer), pool by pool.
        level : {"nominal", "ordinal", "interval", "ratio"}, default "nominal"
            Level of measurement of Krippendorff's alpha.

        Returns
        -------
        DataFrame
            One row per pool, sorted by pool id: ``pool_id`` (string),
            ``n_responses``, ``n_tasks``, ``n_workers`` (int64),
            ``krippendorff_alpha``, ``fleiss_kappa``, ``agreement_with_majority``
            (the share of responses equal to their task's majority vote) and
            ``mean_task_entropy`` (the mean entropy of the tasks' votes, nats),
            all float64. A pool where no task has two responses has NaN alpha and
            kappa (nothing to measure); one label everywhere gives 1.0 (see
            ``docs/agreement.md``). ``df.attrs["toloka"]`` records the field,
            the pools and the level.

        See Also
        --------
        pandas_toloka.agreement : The measures, per worker, per pair and per task.
        """
        return agreement_by_pool(
            self._obj,
            field=field,
            task=task,
            worker=worker,
            pool_id=pool_id,
            output_spec=output_spec,
            status=status,
            level=level,
            dtype_backend=dtype_backend,
        )

    def aggregation_report(
        self,
        truth: Mapping[Any, Any] | pd.Series | pd.DataFrame | str = "pool",
        *,
        task: Hashable = "task_id",
        label: Hashable | None = None,
        n_bins: int = 10,
        responses: pd.DataFrame | None = None,
        worker: Hashable = "worker_id",
        client: Client | None = None,
        token: str | None = None,
        environment: str | None = None,
        url: str | None = None,
    ) -> pd.Series:
        """How far to trust an aggregation result: accuracy and calibration on known labels.

        The frame is a result of one row per task (:meth:`aggregate_locally`,
        :func:`read_aggregated_solutions`); the figures are those of
        :func:`pandas_toloka.aggregation.aggregation_report`.

        Parameters
        ----------
        truth : "pool", DataFrame, mapping or Series, default "pool"
            The known labels. ``"pool"`` takes the pool's control tasks: from
            the ``golden.<label>`` column of ``responses=`` when it has one (a
            results export, no request), else read with :func:`read_tasks`
            through ``client=`` (or ``token=``/``url=``) for each pool of the
            frame (its ``pool_id`` column, or the pools its ``attrs`` name).
            Anything else is passed on as it is (a frame of tasks, a mapping
            or Series of task id -> label).
        task : str, default "task_id"
            The task column of the frame (and of ``responses``).
        label : str, optional
            The answer column; default: the frame's only field (its ``attrs``),
            else ``"result"``.
        n_bins : int, default 10
            Equal-width confidence bins for the expected calibration error.
        responses : DataFrame, optional
            The responses aggregated: adds the workers' agreement figures.
        worker : str, default "worker_id"
            The worker column of ``responses``.
        client, token, environment, url : optional
            Where ``truth="pool"`` reads the control tasks from, as for
            :func:`read_tasks`; nothing is requested otherwise.

        Returns
        -------
        Series
            ``n_tasks``, ``accuracy``, ``mean_confidence``, ``ece`` (and with
            ``responses`` the agreement figures), as
            :func:`~pandas_toloka.aggregation.aggregation_report` returns them.
            Rows marked ``golden`` (anchored on their known label) are left out.

        Raises
        ------
        InvalidArgumentError
            For ``truth="pool"`` with neither ``golden.<label>`` columns in
            ``responses`` nor a connection, or any argument the function
            refuses; before any request.

        Examples
        --------
        >>> result = responses.toloka.aggregate_locally(fields="result")  # doctest: +SKIP
        >>> result.toloka.aggregation_report(client=client)  # doctest: +SKIP
        """
        return report_with_truth(
            self._obj,
            truth,
            task=task,
            label=label,
            n_bins=n_bins,
            responses=responses,
            worker=worker,
            connection=Connection(client, token, environment, url),
        )

    def rank(
        self,
        method: str = "BRADLEY_TERRY",
        *,
        left: Hashable = "left",
        right: Hashable = "right",
        winner: Hashable = "winner",
        worker: Hashable = "worker_id",
        pool_id: str | int | None = None,
        status: str | Sequence[str] | None = "ACCEPTED",
        **options: Any,
    ) -> pd.DataFrame:
        """Rank the items of a side-by-side pool from its comparisons, pool by pool.

        Parameters
        ----------
        method : str, default "BRADLEY_TERRY"
            A pairwise method of :mod:`pandas_toloka.aggregation`:
            'BRADLEY_TERRY', 'NOISY_BRADLEY_TERRY' (per-worker reliability and
            bias), 'ELO', 'COUNTING', 'AVERAGE_WIN_RATE', 'EIGENVECTOR' or
            'PAGERANK' (``docs/side-by-side.md``).
        left, right, winner, worker : str, default "left", "right", "winner", "worker_id"
            The columns of the two items, the outcome (``"left"``/``"right"``/``"tie"``
            or the winning item's id) and the worker (read by NoisyBT only).
            For a pool read with :func:`read_assignments_tsv`, ``left`` and
            ``right`` are the task's inputs and ``winner`` its output field.
        pool_id : str, optional
            Rank only this pool of a ``pool_id`` column. Several pools are
            ranked separately.
        status : str, list or None, default "ACCEPTED"
            Rows kept when the frame has a ``status`` column; None keeps all.
        **options
            The method's own options, e.g. ``n_bootstrap=``, ``seed=``,
            ``prior=`` (:func:`~pandas_toloka.aggregation.bradley_terry`).

        Returns
        -------
        DataFrame
            ``pool_id`` (string, when the frame has pools), then the method's
            ranking: ``item``, ``score``, ``rank``, ``n_comparisons``,
            ``ci_low``, ``ci_high``, best first within each pool.
        """
        return rank_by_pool(
            self._obj,
            method=method,
            left=left,
            right=right,
            winner=winner,
            worker=worker,
            pool_id=pool_id,
            status=status,
            options=options,
        )

    # ------------------------------------------------------------------ plots

    def plot_confidence(
        self,
        *,
        by: Hashable | None = None,
        bins: int = 20,
        ax: Axes | None = None,
        title: str | None = None,
    ) -> Axes:
        """Plot the distribution of ``confidence`` of aggregated answers, one line per answer.

        Needs matplotlib (``pip install 'pandas-toloka[plot]'``).

        Parameters
        ----------
        by : str, optional
            The answer column to split the tasks by. Default: the frame's only
            field; with several, one histogram of all tasks.
        bins : int, default 20
            Number of equal-width bins over [0, 1].
        ax : matplotlib.axes.Axes, optional
            The axes to draw on. Default: a new figure.
        title : str, optional
            Default: ``"Confidence by <answer>: <pool>, <algorithm>"`` from
            ``df.attrs["toloka"]``.

        Returns
        -------
        matplotlib.axes.Axes

        See Also
        --------
        pandas_toloka.plotting.plot_confidence : The function behind this method.
        """
        return plotting.plot_confidence(self._obj, by=by, bins=bins, ax=ax, title=title)

    def plot_worker_quality(
        self,
        field: str | None = None,
        *,
        which: WorkerSelection = "worst",
        top: int | None = 30,
        id_width: int = 16,
        ax: Axes | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> Axes:
        """Plot per-worker accuracy as bars, the workers most worth checking first.

        On a frame of responses, the accuracy is estimated first with
        :meth:`worker_quality` (``field`` and ``**kwargs`` go there); a frame
        that already has an ``accuracy`` column is plotted as it is. Needs
        matplotlib (``pip install 'pandas-toloka[plot]'``).

        Parameters
        ----------
        field : str, optional
            The answer column whose accuracy is estimated, as for
            :meth:`worker_quality`.
        which : {'worst', 'best', 'all'}, default 'worst'
            ``'worst'``: the ``top`` workers of lowest accuracy, lowest first
            (the ones to check); ``'best'``: the ``top`` highest, highest first;
            ``'all'``: every worker, lowest first.
        top : int or None, default 30
            How many workers to show; None shows all.
        id_width : int, default 16
            Longer worker ids are shortened in the middle with an ellipsis.
        ax : matplotlib.axes.Axes, optional
            The axes to draw on. Default: a new figure, tall enough for the bars.
        title : str, optional
            Default: ``"Worker accuracy: <pool>, Dawid–Skene (<which>)"``.
        **kwargs
            Options of :meth:`worker_quality` (``task``, ``worker``,
            ``output_spec``, ``status``, ``n_iter``, ``tol``).

        Returns
        -------
        matplotlib.axes.Axes

        See Also
        --------
        pandas_toloka.plotting.plot_worker_quality : The function behind this method.
        """
        frame = self._obj
        if "accuracy" not in frame.columns:
            frame = self.worker_quality(field, **kwargs)
        elif field is not None or kwargs:
            raise InvalidArgumentError(
                "The frame already holds accuracies; field= and options do not apply."
            )
        return plotting.plot_worker_quality(
            frame, which=which, top=top, id_width=id_width, ax=ax, title=title
        )
