"""Multi-node scenarios: forks, reorgs and double spends with real `btcnode run` processes.

Each scenario (`mining_race`, `race_attack`, `replace_by_fee`, `private_chain`,
`partition`) starts its nodes on 127.0.0.1 through the `harness`, drives them over RPC
(`chain`) and returns a frozen result (`results`) that tests assert on and `narrative`
tells; `command` is `btcnode scenario NAME`. The pure parts: bitcoin.pdf §11's formula and
the exact race (`nakamoto`), the seeded race model (`simulation`), scenario keys and
signed spends (`keys`), the merchant's view of a payment (`merchant`), results, narrative.
"""

from btcnode.scenarios.errors import (
    NodeCallError,
    NodeStartError,
    ScenarioCheckFailed,
    ScenarioError,
    ScenarioMisuse,
    ScenarioTimeout,
)
from btcnode.scenarios.harness import Cluster, NodeProcess
from btcnode.scenarios.merchant import PaymentState, PaymentStatus, payment_status
from btcnode.scenarios.mining_race import run_mining_race
from btcnode.scenarios.nakamoto import (
    attacker_success_probability,
    confirmations_needed,
    race_success_probability,
)
from btcnode.scenarios.partition import run_partition_heal
from btcnode.scenarios.private_chain import run_private_chain
from btcnode.scenarios.race_attack import run_race_attack
from btcnode.scenarios.replace_by_fee import run_replace_by_fee
from btcnode.scenarios.results import (
    MiningRaceResult,
    PartitionResult,
    PrivateChainResult,
    RaceAttackResult,
    ReplaceByFeeResult,
    ScenarioResult,
    UtxoSummary,
)
from btcnode.scenarios.simulation import HashShareRow, HonestTiming, RaceEstimate, hash_share_table

__all__ = [
    "Cluster",
    "HashShareRow",
    "HonestTiming",
    "MiningRaceResult",
    "NodeCallError",
    "NodeProcess",
    "NodeStartError",
    "PartitionResult",
    "PaymentState",
    "PaymentStatus",
    "PrivateChainResult",
    "RaceAttackResult",
    "RaceEstimate",
    "ReplaceByFeeResult",
    "ScenarioCheckFailed",
    "ScenarioError",
    "ScenarioMisuse",
    "ScenarioResult",
    "ScenarioTimeout",
    "UtxoSummary",
    "attacker_success_probability",
    "confirmations_needed",
    "hash_share_table",
    "payment_status",
    "race_success_probability",
    "run_mining_race",
    "run_partition_heal",
    "run_private_chain",
    "run_race_attack",
    "run_replace_by_fee",
]
