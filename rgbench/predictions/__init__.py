"""What a suite predicts: an observable selected from a case dataset, the test it must pass, and its nulls.

`_base` holds the prediction and the abstract contracts (`AbstractObservable`, `AbstractTest`
and its `AbstractVectorTest`) with the verdict rules; `_observables`, `_seed_observables`, `_tests` and `_value_tests` the registered kinds.
"""

from ._base import CONTEXT_ATTR as CONTEXT_ATTR
from ._base import AbstractObservable as AbstractObservable
from ._base import AbstractTest as AbstractTest
from ._base import AbstractVectorTest as AbstractVectorTest
from ._base import NullRef as NullRef
from ._base import ObservableUnavailable as ObservableUnavailable
from ._base import PredictionBase as PredictionBase
from ._base import Role as Role
from ._base import SeedStatistics as SeedStatistics
from ._base import Stage as Stage
from ._base import format_region as format_region
from ._base import in_region as in_region
from ._base import interval_rule as interval_rule
from ._base import parse_layers as parse_layers
from ._base import resolved_selection as resolved_selection
from ._base import scalar_per_seed as scalar_per_seed
from ._observables import AttentionDistance as AttentionDistance
from ._observables import AttentionEntropy as AttentionEntropy
from ._observables import AttentionFreeEnergy as AttentionFreeEnergy
from ._observables import DominantTransition as DominantTransition
from ._observables import DriftConcentration as DriftConcentration
from ._observables import EffectiveRank as EffectiveRank
from ._observables import EffectiveRankPooled as EffectiveRankPooled
from ._observables import KernelDrift as KernelDrift
from ._observables import MaskDistance as MaskDistance
from ._observables import ParticipationRatio as ParticipationRatio
from ._observables import ParticipationRatioPooled as ParticipationRatioPooled
from ._observables import RankCollapse as RankCollapse
from ._observables import StableRank as StableRank
from ._observables import StableRankPooled as StableRankPooled
from ._observables import UpdateRatio as UpdateRatio
from ._observables import top_share as top_share
from ._seed_observables import DataEffectiveRankPooled as DataEffectiveRankPooled
from ._seed_observables import FinalLoss as FinalLoss
from ._seed_observables import FourthMomentRatio as FourthMomentRatio
from ._seed_observables import LossGapBayes as LossGapBayes
from ._seed_observables import LossGapTokenwise as LossGapTokenwise
from ._seed_observables import LossSlope as LossSlope
from ._seed_observables import NormGrowth as NormGrowth
from ._seed_observables import SymbolCorrelation as SymbolCorrelation
from ._tests import Concentration as Concentration
from ._tests import Difference as Difference
from ._tests import Equivalence as Equivalence
from ._tests import Monotone as Monotone
from ._tests import Plateau as Plateau
from ._tests import Ratio as Ratio
from ._tests import Threshold as Threshold
from ._value_tests import CloseTo as CloseTo
from ._value_tests import Scaling as Scaling
from ._value_tests import TheoryValue as TheoryValue
