"""Year-end closing (年终结账): the policy deciding what happens to unspent balances."""
