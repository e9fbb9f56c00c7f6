namespace Ignis.Bench.Generator;

/// <summary>
/// Name lists with weights close to their frequency in the US population (surnames: the 2010 US
/// Census top surnames, occurrences per 100,000 people, rounded; given names: the Social Security
/// popular names, rounded). Only the shape matters: a few very common names and a long tail, so
/// that a prefix search such as name=smi matches a realistic share of the patients.
/// </summary>
internal static class Names
{
    public static readonly WeightedList Family = new(
    [
        ("Smith", 828), ("Johnson", 655), ("Williams", 550), ("Brown", 488), ("Jones", 483), ("Garcia", 395),
        ("Miller", 394), ("Davis", 380), ("Rodriguez", 370), ("Martinez", 354), ("Hernandez", 344), ("Lopez", 302),
        ("Gonzalez", 289), ("Wilson", 276), ("Anderson", 274), ("Thomas", 264), ("Taylor", 262), ("Moore", 251),
        ("Jackson", 250), ("Martin", 245), ("Lee", 240), ("Perez", 226), ("Thompson", 224), ("White", 222),
        ("Harris", 214), ("Sanchez", 209), ("Clark", 188), ("Ramirez", 183), ("Lewis", 180), ("Robinson", 178),
        ("Walker", 176), ("Young", 161), ("Allen", 160), ("King", 154), ("Wright", 153), ("Scott", 143),
        ("Torres", 141), ("Nguyen", 140), ("Hill", 140), ("Flores", 139), ("Green", 138), ("Adams", 137),
        ("Nelson", 136), ("Baker", 134), ("Hall", 133), ("Rivera", 126), ("Campbell", 121), ("Mitchell", 120),
        ("Carter", 119), ("Roberts", 118), ("Gomez", 114), ("Phillips", 113), ("Evans", 112), ("Turner", 111),
        ("Diaz", 109), ("Parker", 108), ("Cruz", 107), ("Edwards", 106), ("Collins", 105), ("Reyes", 104),
        ("Stewart", 103), ("Morris", 102), ("Morales", 101), ("Murphy", 100), ("Cook", 98), ("Rogers", 97),
        ("Gutierrez", 96), ("Ortiz", 95), ("Morgan", 94), ("Cooper", 93), ("Peterson", 92), ("Bailey", 91),
        ("Reed", 90), ("Kelly", 89), ("Howard", 88), ("Ramos", 87), ("Kim", 86), ("Cox", 85),
        ("Ward", 84), ("Richardson", 83), ("Watson", 82), ("Brooks", 81), ("Chavez", 80), ("Wood", 79),
        ("James", 78), ("Bennett", 77), ("Gray", 76), ("Mendoza", 75), ("Ruiz", 74), ("Hughes", 73),
        ("Price", 72), ("Alvarez", 71), ("Castillo", 70), ("Sanders", 69), ("Patel", 69), ("Myers", 68),
        ("Long", 67), ("Ross", 66), ("Foster", 65), ("Jimenez", 64), ("Powell", 63), ("Jenkins", 62),
        ("Perry", 61), ("Russell", 60), ("Sullivan", 59), ("Bell", 58), ("Coleman", 57), ("Butler", 56),
        ("Henderson", 55), ("Barnes", 54), ("Gonzales", 53), ("Fisher", 52), ("Vasquez", 51), ("Simmons", 50),
        ("Romero", 50), ("Jordan", 49), ("Patterson", 49), ("Alexander", 48), ("Hamilton", 48), ("Graham", 47),
        ("Reynolds", 47), ("Griffin", 46), ("Wallace", 46), ("Moreno", 45), ("West", 45), ("Cole", 44),
        ("Hayes", 44), ("Bryant", 43), ("Herrera", 43), ("Gibson", 42), ("Ellis", 42), ("Tran", 41),
        ("Medina", 41), ("Aguilar", 40), ("Stevens", 40), ("Murray", 39), ("Ford", 39), ("Castro", 38),
        ("Marshall", 38), ("Owens", 37), ("Harrison", 37), ("Fernandez", 36), ("McDonald", 36), ("Woods", 35),
        ("Washington", 35), ("Kennedy", 34), ("Wells", 34), ("Vargas", 33), ("Henry", 33), ("Chen", 33),
        ("Freeman", 32), ("Webb", 32), ("Tucker", 31), ("Guzman", 31), ("Burns", 30), ("Crawford", 30),
        ("Olson", 29), ("Simpson", 29), ("Porter", 29), ("Hunter", 28), ("Gordon", 28), ("Mendez", 28),
        ("Silva", 27), ("Shaw", 27), ("Snyder", 27), ("Mason", 26), ("Dixon", 26), ("Munoz", 26),
        ("Hunt", 25), ("Hicks", 25), ("Holmes", 25), ("Palmer", 24), ("Wagner", 24), ("Black", 24),
        ("Robertson", 23), ("Boyd", 23), ("Rose", 23), ("Stone", 22), ("Salazar", 22), ("Fox", 22),
        ("Warren", 21), ("Mills", 21), ("Meyer", 21), ("Rice", 20), ("Schmidt", 20), ("Garza", 20),
        ("Daniels", 19), ("Ferguson", 19), ("Nichols", 19), ("Stephens", 18), ("Soto", 18), ("Weaver", 18),
        ("Ryan", 17), ("Gardner", 17), ("Payne", 17), ("Grant", 16), ("Dunn", 16), ("Kelley", 16),
        ("Spencer", 15), ("Hawkins", 15), ("Arnold", 15), ("Pierce", 14), ("Vazquez", 14), ("Hansen", 14),
        ("Peters", 13), ("Santos", 13), ("Hart", 13), ("Bradley", 12), ("Knight", 12), ("Elliott", 12),
        ("Cunningham", 11), ("Duncan", 11), ("Armstrong", 11), ("Hudson", 10), ("Carroll", 10), ("Lane", 10),
        ("Riley", 9), ("Andrews", 9), ("Alvarado", 9), ("Ray", 9), ("Delgado", 8), ("Berry", 8),
        ("Perkins", 8), ("Hoffman", 8), ("Johnston", 7), ("Matthews", 7), ("Pena", 7), ("Richards", 7),
        ("Contreras", 6), ("Willis", 6), ("Carpenter", 6), ("Lawrence", 6), ("Sandoval", 5), ("Guerrero", 5),
        ("Smithson", 2), ("Smithers", 1), ("Johansson", 2), ("Andersen", 3), ("Mcbride", 4), ("Dubois", 2),
        ("Muller", 3), ("Okafor", 2), ("Yamamoto", 2), ("Kowalski", 2), ("Nakamura", 2), ("Ivanova", 1),
    ]);

    public static readonly WeightedList Male = new(
    [
        ("James", 330), ("Robert", 310), ("John", 300), ("Michael", 290), ("David", 240), ("William", 230),
        ("Richard", 160), ("Joseph", 150), ("Thomas", 140), ("Christopher", 130), ("Charles", 125), ("Daniel", 120),
        ("Matthew", 110), ("Anthony", 100), ("Mark", 95), ("Donald", 90), ("Steven", 85), ("Andrew", 80),
        ("Paul", 75), ("Joshua", 75), ("Kenneth", 70), ("Kevin", 68), ("Brian", 66), ("George", 64),
        ("Timothy", 60), ("Ronald", 58), ("Jason", 56), ("Edward", 54), ("Jeffrey", 52), ("Ryan", 50),
        ("Jacob", 48), ("Gary", 46), ("Nicholas", 44), ("Eric", 42), ("Jonathan", 40), ("Stephen", 38),
        ("Larry", 36), ("Justin", 34), ("Scott", 32), ("Brandon", 30), ("Benjamin", 29), ("Samuel", 28),
        ("Gregory", 27), ("Alexander", 26), ("Patrick", 25), ("Frank", 24), ("Raymond", 23), ("Jack", 22),
        ("Dennis", 21), ("Jerry", 20), ("Tyler", 19), ("Aaron", 18), ("Jose", 18), ("Adam", 17),
        ("Nathan", 16), ("Henry", 15), ("Zachary", 14), ("Douglas", 13), ("Peter", 12), ("Kyle", 11),
        ("Noah", 10), ("Ethan", 10), ("Jeremy", 9), ("Walter", 9), ("Christian", 8), ("Keith", 8),
        ("Roger", 7), ("Terry", 7), ("Austin", 6), ("Sean", 6), ("Gerald", 5), ("Carl", 5),
        ("Harold", 5), ("Dylan", 4), ("Arthur", 4), ("Lawrence", 4), ("Jordan", 3), ("Jesse", 3),
        ("Bryan", 3), ("Billy", 3), ("Bruce", 2), ("Gabriel", 2), ("Joe", 2), ("Logan", 2),
        ("Alan", 2), ("Juan", 2), ("Albert", 2), ("Willie", 1), ("Elijah", 1), ("Wayne", 1),
        ("Randy", 1), ("Vincent", 1), ("Mason", 1), ("Roy", 1), ("Ralph", 1), ("Bobby", 1),
    ]);

    public static readonly WeightedList Female = new(
    [
        ("Mary", 330), ("Patricia", 200), ("Jennifer", 190), ("Linda", 180), ("Elizabeth", 170), ("Barbara", 160),
        ("Susan", 150), ("Jessica", 140), ("Sarah", 130), ("Karen", 125), ("Lisa", 120), ("Nancy", 110),
        ("Betty", 105), ("Sandra", 100), ("Margaret", 95), ("Ashley", 90), ("Kimberly", 85), ("Emily", 80),
        ("Donna", 75), ("Michelle", 70), ("Carol", 68), ("Amanda", 66), ("Melissa", 64), ("Deborah", 62),
        ("Stephanie", 60), ("Dorothy", 58), ("Rebecca", 56), ("Sharon", 54), ("Laura", 52), ("Cynthia", 50),
        ("Amy", 48), ("Kathleen", 46), ("Angela", 44), ("Shirley", 42), ("Brenda", 40), ("Emma", 38),
        ("Anna", 36), ("Pamela", 34), ("Nicole", 32), ("Samantha", 30), ("Katherine", 29), ("Christine", 28),
        ("Helen", 27), ("Debra", 26), ("Rachel", 25), ("Carolyn", 24), ("Janet", 23), ("Maria", 22),
        ("Catherine", 21), ("Heather", 20), ("Diane", 19), ("Olivia", 18), ("Julie", 18), ("Joyce", 17),
        ("Victoria", 16), ("Ruth", 15), ("Virginia", 14), ("Lauren", 13), ("Kelly", 12), ("Christina", 11),
        ("Joan", 10), ("Evelyn", 10), ("Judith", 9), ("Andrea", 9), ("Hannah", 8), ("Megan", 8),
        ("Cheryl", 7), ("Jacqueline", 7), ("Martha", 6), ("Madison", 6), ("Teresa", 5), ("Gloria", 5),
        ("Sara", 5), ("Janice", 4), ("Ann", 4), ("Kathryn", 4), ("Abigail", 3), ("Sophia", 3),
        ("Frances", 3), ("Jean", 3), ("Alice", 2), ("Judy", 2), ("Isabella", 2), ("Julia", 2),
        ("Grace", 2), ("Amber", 2), ("Denise", 2), ("Danielle", 1), ("Marilyn", 1), ("Beverly", 1),
        ("Charlotte", 1), ("Natalie", 1), ("Theresa", 1), ("Diana", 1), ("Brittany", 1), ("Doris", 1),
    ]);
}

internal sealed class WeightedList
{
    private readonly string[] _names;
    private readonly long[] _cumulative;

    public WeightedList(IReadOnlyList<(string Name, int Weight)> items)
    {
        _names = [.. items.Select(i => i.Name)];
        _cumulative = new long[items.Count];
        long sum = 0;
        for (var i = 0; i < items.Count; i++) _cumulative[i] = sum += items[i].Weight;
    }

    public IReadOnlyList<string> All => _names;

    public string Pick(ref Rng rng)
    {
        var x = (long)(rng.Next() % (ulong)_cumulative[^1]);
        var i = Array.BinarySearch(_cumulative, x + 1);
        return _names[i >= 0 ? i : ~i];
    }
}
